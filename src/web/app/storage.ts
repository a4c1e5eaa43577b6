type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/**
 * The browser's storage, or memory where the browser denies it. A browser that blocks third-party
 * cookies also denies storage to a frame from another site (the app in a helpdesk's sidebar):
 * there, merely reading `sessionStorage` throws. In memory, what the app keeps lasts until the
 * frame reloads, and the app still works.
 */
export function orMemory(open: () => Storage): () => Store {
  let store: Store | undefined;
  return () => {
    if (store) return store;
    try {
      const opened = open();
      opened.getItem('leeway');
      store = opened;
    } catch {
      const memory = new Map<string, string>();
      store = {
        getItem: (key) => memory.get(key) ?? null,
        setItem: (key, value) => void memory.set(key, String(value)),
        removeItem: (key) => void memory.delete(key),
      };
    }
    return store;
  };
}

/** Kept for this tab (sessionStorage). */
export const tabStorage = orMemory(() => sessionStorage);
/** Kept for this browser (localStorage). */
export const browserStorage = orMemory(() => localStorage);
