/** What every view gets from the app shell (main.ts), and what a view is. */

export interface ViewContext {
  /** The chosen client's slug, the `{client}` of `/v1/clients/{client}/...`. */
  readonly client: string;
  /** Says `message` in the page's status line, a polite live region. */
  announce(message: string): void;
  /** Says what went wrong in the page's alert line, an assertive live region. */
  fail(error: unknown): void;
  /** Renders this view again with fresh data, then focuses the element with id `focusId` (else the heading). */
  refresh(focusId?: string): Promise<void>;
  /** Goes to another view, as following a link would. */
  go(hash: string): void;
  /** Runs `cleanup` when the reader leaves this view (to close a live stream). */
  onLeave(cleanup: () => void): void;
}

/** A view renders the contents of <main>, starting with its <h1>, from fresh API reads. */
export type View = (context: ViewContext, ...params: string[]) => Promise<Node[]>;

/** The hash of a view of the chosen client: `#/acme/events`. */
export function link(client: string, ...path: string[]): string {
  return `#/${[client, ...path].map(encodeURIComponent).join("/")}`;
}

/**
 * Runs `action` for a button: the button is disabled meanwhile (no double submission) and a
 * failure is reported, never left as an unhandled rejection.
 */
export async function act(context: ViewContext, button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  button.disabled = true;
  try {
    await action();
  } catch (error) {
    context.fail(error);
  } finally {
    button.disabled = false;
  }
}
