/** The public methods of an object, as own functions bound to it. */
export type MethodsOf<T> = { [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] };

/**
 * The public methods of `store`, bound to it: an engine is composed of the stores of its concerns
 * (insert, claim, finish, ...), each a small class over the engine's connection.
 */
export function methodsOf<T extends object>(store: T): MethodsOf<T> {
  const methods: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const value = (store as Record<string, unknown>)[name];
    if (name !== 'constructor' && typeof value === 'function') methods[name] = (value as (...args: unknown[]) => unknown).bind(store);
  }
  return methods as MethodsOf<T>;
}
