import { useEffect, useState } from 'preact/hooks';

/**
 * Pages live in the URL's hash (#/tasks?status=failed): the server's paths belong to the API
 * (GET /tasks is JSON), and a hash route never leaves the page.
 */
export function currentRoute() {
  const raw = decodeURI(location.hash.replace(/^#/, '')) || '/';
  const [path, search = ''] = raw.split('?');
  return { path: path || '/', params: new URLSearchParams(search) };
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** A link target: `href('/tasks', { status: 'failed' })` is `#/tasks?status=failed`. */
export function href(path, params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return `#${path}${text ? `?${text}` : ''}`;
}

export function navigate(path, params = {}, { replace = false } = {}) {
  const target = href(path, params);
  if (replace) history.replaceState(null, '', target);
  else if (location.hash !== target) location.hash = target;
  if (replace) dispatchEvent(new HashChangeEvent('hashchange'));
}
