import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';

/**
 * What every page may use: the signed-in user, the live connection and its latest stats, the task
 * types, notifications, and logout.
 */
export const AppContext = createContext(null);

export function useApp() {
  return useContext(AppContext);
}

/** Listens to a live event while the component is mounted; the listener may change on each render. */
export function useLive(event, listener) {
  const { live } = useApp();
  const current = useRef(listener);
  current.current = listener;
  useEffect(() => live?.on(event, (data) => current.current(data)), [live, event]);
}

/** Re-renders every `intervalMs` with the current time, for "5 s ago" labels and ageing counters. */
export function useNow(intervalMs = 1000) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

/**
 * Loads data with `loader()` when `deps` change; `reload()` loads again without showing the loading
 * state (live refreshes must not flicker). Stale answers are dropped. With `initial`, that is shown at
 * once and refreshed quietly.
 */
export function useLoad(loader, deps, initial = null) {
  const [state, setState] = useState({ data: initial, error: null, loading: initial === null });
  const generation = useRef(0);
  const quietFirst = useRef(initial !== null);
  const run = useCallback(async (quiet) => {
    const mine = ++generation.current;
    if (!quiet) setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const data = await loader();
      if (mine === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ data: quiet ? s.data : null, error, loading: false }));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void run(quietFirst.current);
    quietFirst.current = false;
    return () => {
      generation.current += 1;
    };
  }, [run]);
  const reload = useCallback(() => run(true), [run]);
  const setData = useCallback((update) => setState((s) => ({ ...s, data: typeof update === 'function' ? update(s.data) : update })), []);
  return { ...state, reload, setData };
}

/** A function that runs `fn` at most once per `ms`, trailing (the last call always runs). */
export function useThrottled(fn, ms) {
  const current = useRef(fn);
  current.current = fn;
  const timer = useRef(null);
  const last = useRef(0);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    timer.current = setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      current.current();
    }, wait);
  }, [ms]);
}
