import { CreateAccessSchema1763800000000 } from './1763800000000-create-access-schema';
import { CreateCreditLedger1763800100000 } from './1763800100000-create-credit-ledger';
import { CreateReportRollups1763800200000 } from './1763800200000-create-report-rollups';
import { QueueRollupChanges1763900000000 } from './1763900000000-queue-rollup-changes';
import { CreateMonthReleases1764600000000 } from './1764600000000-create-month-releases';
import { DropReportRollups1764700000000 } from './1764700000000-drop-report-rollups';
import { SignIn1764800000000 } from './1764800000000-sign-in';
import { ScimBoundaries1764900000000 } from './1764900000000-scim-boundaries';
import { AuthNotify1765000000000 } from './1765000000000-auth-notify';
import { LogCreditFunction1765100000000 } from './1765100000000-log-credit-function';
import { EventsAndWebhooks1765200000000 } from './1765200000000-events-and-webhooks';
import { Integrations1765300000000 } from './1765300000000-integrations';
import { ProvisioningTokenExpiry1765400000000 } from './1765400000000-provisioning-token-expiry';
import { LimitFitWithheldShares1765500000000 } from './1765500000000-limit-fit-withheld-shares';

/** Every migration, oldest first. Listed explicitly so the app, the CLI and the tests share one list. */
export const migrations = [
  CreateAccessSchema1763800000000,
  CreateCreditLedger1763800100000,
  CreateReportRollups1763800200000,
  QueueRollupChanges1763900000000,
  CreateMonthReleases1764600000000,
  DropReportRollups1764700000000,
  SignIn1764800000000,
  ScimBoundaries1764900000000,
  AuthNotify1765000000000,
  LogCreditFunction1765100000000,
  EventsAndWebhooks1765200000000,
  Integrations1765300000000,
  ProvisioningTokenExpiry1765400000000,
  LimitFitWithheldShares1765500000000,
];
