/**
 * The whole view layer: `h()` builds an element from a tag, properties and children.
 *
 * Text is only ever set as text (a string child becomes a Text node), never parsed as HTML, so
 * nothing the API returns can inject markup. The page's Content-Security-Policy backs this up:
 * it requires Trusted Types, under which an HTML string sink such as `innerHTML = "..."` throws.
 */

type Child = Node | string | number | null | undefined | false;

/** DOM properties (`type`, `htmlFor`, `tabIndex`...), and `attrs` set as attributes (role, aria-*). */
type Props<K extends keyof HTMLElementTagNameMap> = Partial<Omit<HTMLElementTagNameMap[K], "style" | "attributes">> & {
  attrs?: Record<string, string>;
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props<K> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const { attrs, ...properties } = props;
  const element = Object.assign(document.createElement(tag), properties);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) {
      element.append(typeof child === "number" ? String(child) : child);
    }
  }
  return element;
}

/** A date and time as the reader's locale writes them, in a <time> a screen reader and a machine can read. */
export function time(epochMs: number): HTMLTimeElement {
  const at = new Date(epochMs);
  const text = at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  return h("time", { dateTime: at.toISOString() }, text);
}
