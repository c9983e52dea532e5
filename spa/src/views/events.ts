/** Upcoming events with the places left, and registering for one or cancelling. */
import { api, expectData, type Schemas } from "../api/client";
import { h, time } from "../dom";
import { act, type ViewContext } from "./context";

type Event = Schemas["Event"];
type Registration = Schemas["Registration"];

/** The statuses that hold a place; `cancelled` and `refunded` do not. */
export const ACTIVE: ReadonlySet<Registration["status"]> = new Set(["pending", "confirmed", "paid", "checked_in"]);

export function placesLeft(event: Event): string {
  if (event.capacity === null || event.capacity === undefined) {
    return "No limit on places";
  }
  const left = Math.max(event.capacity - event.registeredCount, 0);
  return left === 0 ? "Full" : `${left} of ${event.capacity} places left`;
}

/** The reader's registrations that hold a place, by event. */
export async function activeRegistrations(client: string): Promise<Map<string, Registration>> {
  const page = expectData(
    await api.GET("/v1/clients/{client}/registrations/mine", { params: { path: { client }, query: { limit: 100 } } }),
  );
  return new Map(page.items.filter((r) => ACTIVE.has(r.status)).map((r) => [r.eventId, r]));
}

export async function eventsView(context: ViewContext): Promise<Node[]> {
  const { client } = context;
  const [events, registered] = await Promise.all([
    api
      .GET("/v1/clients/{client}/events", {
        params: { path: { client }, query: { status: "published", startsAfter: Date.now(), limit: 30 } },
      })
      .then(expectData),
    activeRegistrations(client),
  ]);

  function item(event: Event): HTMLLIElement {
    const registration = registered.get(event.id);
    // The event's title describes the button, so "Register" is not read out alone.
    const attrs = { "aria-describedby": `title-${event.id}` };
    const action = registration
      ? h("button", { type: "button", id: `cancel-${event.id}`, attrs }, "Cancel my registration")
      : h("button", { type: "button", id: `register-${event.id}`, attrs }, "Register");
    action.addEventListener("click", () =>
      act(context, action, async () => {
        if (registration) {
          expectData(
            await api.POST("/v1/clients/{client}/registrations/{registrationId}/cancel", {
              params: { path: { client, registrationId: registration.id } },
            }),
          );
          context.announce(`Registration for ${event.title} cancelled.`);
          await context.refresh(`register-${event.id}`);
        } else {
          // A member registers itself: no `memberId` in the body.
          expectData(
            await api.POST("/v1/clients/{client}/events/{eventId}/registrations", {
              params: { path: { client, eventId: event.id } },
              body: {},
            }),
          );
          context.announce(`You are registered for ${event.title}.`);
          await context.refresh(`cancel-${event.id}`);
        }
      }),
    );
    return h(
      "li",
      { className: "card" },
      h("h2", { id: `title-${event.id}` }, event.title),
      h("p", {}, time(event.startAt), event.location ? ` · ${event.location}` : null),
      event.description ? h("p", {}, event.description) : null,
      h("p", {}, placesLeft(event), registration ? " · You are registered" : null),
      action,
    );
  }

  return [
    h("h1", { tabIndex: -1 }, "Upcoming events"),
    events.items.length > 0 ? h("ul", { className: "cards" }, ...events.items.map(item)) : h("p", {}, "No events."),
  ];
}
