// Page-wide signals, so that a module lower in the import order can reach one above it
// without importing it (which would make an import circle): the upper module listens,
// the lower one emits. dialogs.js and roomlist.js listen.
const listeners = new Map();

export function on(name, fn) {
  listeners.set(name, [...(listeners.get(name) ?? []), fn]);
}

export function emit(name, ...args) {
  for (const fn of listeners.get(name) ?? []) fn(...args);
}
