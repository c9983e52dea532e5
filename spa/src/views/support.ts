/** Support: the reader's tickets, opening one, and a ticket's thread where staff replies arrive live. */
import { api, expectData, type Schemas } from "../api/client";
import { h, time } from "../dom";
import { act, link, type ViewContext } from "./context";

type Message = Schemas["Message"];

export async function supportView(context: ViewContext): Promise<Node[]> {
  const { client } = context;
  const tickets = expectData(
    await api.GET("/v1/clients/{client}/tickets/mine", { params: { path: { client }, query: { limit: 100 } } }),
  );

  const subject = h("input", { id: "ticket-subject", name: "subject", required: true, autocomplete: "off" });
  const body = h("textarea", { id: "ticket-body", name: "body", required: true, rows: 5 });
  const submit = h("button", { type: "submit" }, "Open the ticket");
  const form = h(
    "form",
    { className: "stack", attrs: { "aria-labelledby": "open-ticket" } },
    h("h2", { id: "open-ticket" }, "Ask for help"),
    h("label", { htmlFor: subject.id }, "Subject"),
    subject,
    h("label", { htmlFor: body.id }, "Your message"),
    body,
    submit,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault(); // the SPA sends the form itself, as JSON, with the X-CSRF header
    void act(context, submit, async () => {
      const ticket = expectData(
        await api.POST("/v1/clients/{client}/tickets", {
          params: { path: { client } },
          body: { subject: subject.value, body: body.value },
        }),
      );
      context.announce(`Ticket “${ticket.subject}” opened.`);
      context.go(link(client, "support", ticket.id));
    });
  });

  return [
    h("h1", { tabIndex: -1 }, "Support"),
    h("h2", {}, "My tickets"),
    tickets.items.length > 0
      ? h(
          "ul",
          {},
          ...tickets.items.map((ticket) =>
            h(
              "li",
              {},
              h("a", { href: link(client, "support", ticket.id) }, ticket.subject),
              ` · ${ticket.status} · updated `,
              time(ticket.updatedAt),
            ),
          ),
        )
      : h("p", {}, "You have no tickets."),
    form,
  ];
}

export async function ticketView(context: ViewContext, ticketId: string): Promise<Node[]> {
  const { client } = context;
  const path = { client, ticketId };
  const [ticket, me, history] = await Promise.all([
    api.GET("/v1/clients/{client}/tickets/{ticketId}", { params: { path } }).then(expectData),
    api.GET("/v1/clients/{client}/members/me", { params: { path: { client } } }).then(expectData),
    wholeThread(client, ticketId),
  ]);

  // The thread is a log: a live region that screen readers read out as entries are added. The
  // messages so far go in before it is on the page, so only new ones are announced.
  const thread = h("ol", { className: "thread", attrs: { role: "log", "aria-labelledby": "thread" } });
  const shown = new Set<string>();
  function show(message: Message): void {
    if (shown.has(message.id)) {
      return; // the stream starts with the last message already shown, and a sent reply comes back on it
    }
    shown.add(message.id);
    const author = message.authorUserId === me.userId ? "You" : "Support team";
    thread.append(
      h("li", {}, h("p", { className: "meta" }, `${author} · `, time(message.createdAt)), h("p", {}, message.body)),
    );
  }
  history.forEach(show);

  const liveState = h("p", { className: "meta" }, "Connecting for live replies…");
  const stream = follow(client, ticketId, history.at(-1)?.createdAt ?? 0, {
    message: show,
    open: () => liveState.replaceChildren("Live: replies appear here as they are written."),
    end: (detail) => {
      liveState.replaceChildren("Live replies stopped. Reload the page to see new ones.");
      context.fail(new Error(detail));
      // The usual reason is the end of the session: a session check fires the signed-out view if so.
      void api.GET("/v1/auth/session");
    },
  });
  context.onLeave(() => stream.close());

  const nodes: Node[] = [
    h("h1", { tabIndex: -1 }, ticket.subject),
    h("p", {}, `Status: ${ticket.status} · opened `, time(ticket.createdAt)),
    h("h2", { id: "thread" }, "Messages"),
    liveState,
    thread,
  ];
  if (ticket.status !== "closed") {
    nodes.push(replyForm(context, path, show));
  }
  return nodes;
}

function replyForm(context: ViewContext, path: { client: string; ticketId: string }, show: (m: Message) => void) {
  const reply = h("textarea", { id: "reply-body", name: "body", required: true, rows: 3 });
  const submit = h("button", { type: "submit" }, "Send reply");
  const form = h("form", { className: "stack" }, h("label", { htmlFor: reply.id }, "Your reply"), reply, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void act(context, submit, async () => {
      const sent = expectData(
        await api.POST("/v1/clients/{client}/tickets/{ticketId}/messages", {
          params: { path },
          body: { body: reply.value },
        }),
      );
      reply.value = "";
      show(sent);
    });
  });
  return form;
}

/** Every message of the thread so far, oldest first, page after page. */
async function wholeThread(client: string, ticketId: string): Promise<Message[]> {
  const messages: Message[] = [];
  let cursor: string | null = null;
  do {
    const page: Schemas["Page_Message_"] = expectData(
      await api.GET("/v1/clients/{client}/tickets/{ticketId}/messages", {
        params: { path: { client, ticketId }, query: { cursor, limit: 100 } },
      }),
    );
    messages.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return messages;
}

/**
 * Follows the thread with Server-Sent Events from `since` (ms). EventSource sends the session
 * cookie by itself (same origin) and needs no X-CSRF header (a GET changes nothing). After a
 * dropped connection it reconnects on its own with `Last-Event-ID`, and the BFF resumes after
 * the last message sent. The stream ends for good when the BFF sends an `error` event (access
 * lost) or refuses to reconnect (a 401 once the session has ended).
 */
function follow(
  client: string,
  ticketId: string,
  since: number,
  on: { message: (message: Message) => void; open: () => void; end: (detail: string) => void },
): EventSource {
  const url = `/v1/clients/${encodeURIComponent(client)}/tickets/${encodeURIComponent(ticketId)}/messages/stream`;
  const source = new EventSource(`${url}?since=${since}`);
  source.addEventListener("open", on.open);
  source.addEventListener("message", (event) => {
    const message: Message = JSON.parse(event.data); // the stream's data is the API's Message
    on.message(message);
  });
  source.addEventListener("error", (event) => {
    if (event instanceof MessageEvent) {
      // An `error` event the BFF sent: {code, detail}.
      source.close();
      const { detail } = JSON.parse(event.data);
      on.end(String(detail));
    } else if (source.readyState === EventSource.CLOSED) {
      on.end("The live connection was refused.");
    }
    // Otherwise the connection dropped and the browser is reconnecting by itself.
  });
  return source;
}
