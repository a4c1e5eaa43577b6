// Every e2e hook and test may take up to a minute: they start real databases and processes.
jest.setTimeout(60_000);
