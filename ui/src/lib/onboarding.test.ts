import { describe, expect, it } from "vitest";
import { followUpProblem, sessionFields, sessionFieldsSaved, statusLabel } from "./onboarding";
import { addDays, todayIn } from "./time";

describe("onboarding", () => {
  it("labels every status", () => {
    expect(statusLabel("no_show")).toBe("No-show");
  });
});

describe("the session form's values", () => {
  const session = {
    attendee_ids: ["c-1"],
    meeting_link: null,
    agenda: [{ title: "SLA table", done: false }],
    outcome: "",
    follow_ups: [{ id: "f-1", title: "Send the Slack invite", owner: "Ana", due: addDays(todayIn(), 3), status: "open" as const }],
  };

  it("are copies the form may edit in place", () => {
    const v = sessionFields(session);
    v.agenda[0]!.done = true;
    v.attendee_ids.push("c-2");
    expect(session.agenda[0]!.done).toBe(false);
    expect(session.attendee_ids).toEqual(["c-1"]);
  });

  it("save a blank link as none and a typed one trimmed", () => {
    expect(sessionFieldsSaved({ ...session, meeting_link: "   " }).meeting_link).toBeNull();
    expect(sessionFieldsSaved({ ...session, meeting_link: " https://meet.jit.si/x " }).meeting_link).toBe("https://meet.jit.si/x");
  });

  it("refuse the first follow-up due before the session was planned, by field", () => {
    expect(followUpProblem(session.follow_ups, todayIn())).toBeNull();
    const late = [...session.follow_ups, { ...session.follow_ups[0]!, id: "f-2", due: "2020-01-01" }];
    expect(followUpProblem(late, todayIn())).toEqual({ field: "follow_ups.1.due", text: expect.stringContaining("Follow-up 2") });
    expect(followUpProblem([{ ...session.follow_ups[0]!, due: "" }], null)?.field).toBe("follow_ups.0.due");
  });
});
