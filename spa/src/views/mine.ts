/** The reader's registrations (with a cancel button while one holds a place) and course enrolments. */
import { ApiProblem, api, expectData, type Schemas } from "../api/client";
import { h, time } from "../dom";
import { act, type ViewContext } from "./context";
import { ACTIVE } from "./events";

type Registration = Schemas["Registration"];
type Enrollment = Schemas["Enrollment"];

/** `checked_in` -> `checked in`. */
const label = (status: string) => status.replace("_", " ");

export async function mineView(context: ViewContext): Promise<Node[]> {
  const { client } = context;
  const [registrations, enrollments] = await Promise.all([
    api
      .GET("/v1/clients/{client}/registrations/mine", { params: { path: { client }, query: { limit: 100 } } })
      .then(expectData),
    api
      .GET("/v1/clients/{client}/enrollments/mine", { params: { path: { client }, query: { limit: 100 } } })
      .then(expectData),
  ]);
  // A registration names its event and an enrolment its course by id: read each one once, in parallel.
  const [events, courses] = await Promise.all([
    titles(
      registrations.items.map((r) => r.eventId),
      (eventId) =>
        api.GET("/v1/clients/{client}/events/{eventId}", { params: { path: { client, eventId } } }).then(expectData),
    ),
    titles(
      enrollments.items.map((e) => e.courseId),
      (courseId) =>
        api.GET("/v1/clients/{client}/courses/{courseId}", { params: { path: { client, courseId } } }).then(expectData),
    ),
  ]);

  function registrationItem(registration: Registration): HTMLLIElement {
    const title = events.get(registration.eventId) ?? "An event";
    const item = h(
      "li",
      { className: "card" },
      h("h3", { id: `registration-${registration.id}`, tabIndex: -1 }, title),
      h("p", {}, `Status: ${label(registration.status)} · registered `, time(registration.registeredAt)),
    );
    if (ACTIVE.has(registration.status)) {
      const cancel = h(
        "button",
        { type: "button", attrs: { "aria-describedby": `registration-${registration.id}` } },
        "Cancel my registration",
      );
      cancel.addEventListener("click", () =>
        act(context, cancel, async () => {
          expectData(
            await api.POST("/v1/clients/{client}/registrations/{registrationId}/cancel", {
              params: { path: { client, registrationId: registration.id } },
            }),
          );
          context.announce(`Registration for ${title} cancelled.`);
          await context.refresh(`registration-${registration.id}`);
        }),
      );
      item.append(cancel);
    }
    return item;
  }

  function enrollmentItem(enrollment: Enrollment): HTMLLIElement {
    return h(
      "li",
      { className: "card" },
      h("h3", {}, courses.get(enrollment.courseId) ?? "A course"),
      h(
        "p",
        {},
        `Status: ${label(enrollment.status)} · enrolled `,
        time(enrollment.enrolledAt),
        enrollment.cpdPointsAwarded ? ` · ${enrollment.cpdPointsAwarded} CPD points` : null,
      ),
    );
  }

  return [
    h("h1", { tabIndex: -1 }, "My registrations and courses"),
    h("h2", {}, "Event registrations"),
    registrations.items.length > 0
      ? h("ul", { className: "cards" }, ...registrations.items.map(registrationItem))
      : h("p", {}, "You have no registrations."),
    h("h2", {}, "Course enrolments"),
    enrollments.items.length > 0
      ? h("ul", { className: "cards" }, ...enrollments.items.map(enrollmentItem))
      : h("p", {}, "You are not enrolled on any course."),
  ];
}

/** The title of each distinct id, read with `read`. */
async function titles(ids: string[], read: (id: string) => Promise<{ title: string }>): Promise<Map<string, string>> {
  const distinct = [...new Set(ids)];
  // An event or course the member may no longer see (deleted, or back in draft) answers 404:
  // its registration still shows, under a generic title, rather than the page failing.
  const found = await Promise.all(
    distinct.map((id) =>
      read(id).catch((error: unknown) => {
        if (error instanceof ApiProblem && error.status === 404) return undefined;
        throw error;
      }),
    ),
  );
  return new Map(distinct.flatMap((id, index) => (found[index] ? [[id, found[index].title] as const] : [])));
}
