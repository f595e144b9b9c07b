import Appeals
import Foundation
import Testing

@Suite("Where a letter goes after an attempt")
struct DeliveryStepTests {
    static let at = Date(timeIntervalSince1970: 1_800_000_000)
    static let policy = RetryPolicy(maxAttempts: 3, baseSeconds: 60, maxSeconds: 3600)

    static func outcome(_ result: DeliveryResult) -> DeliveryOutcome {
        DeliveryOutcome(letterId: 1, result: result, code: 250, reply: "reply", at: at)
    }

    static let cases: [(result: DeliveryResult, previous: Int, status: LetterStatus, history: String, dueAfter: TimeInterval?, duplicate: Bool)] = [
        (.sent, 0, .sent, "sent", nil, false),
        (.sent, 2, .sent, "sent", nil, false),
        (.permanent, 0, .failed, "failed", nil, false),
        (.transient, 0, .deferred, "deferred", 60, false),
        (.transient, 1, .deferred, "deferred", 120, false),
        (.transient, 2, .failed, "deferred", nil, false),
        (.unknown, 0, .deferred, "unknown", 60, true),
        (.unknown, 2, .failed, "unknown", nil, true),
    ]

    @Test("every result, before and at the last attempt", arguments: cases)
    func step(_ result: DeliveryResult, _ previous: Int, _ status: LetterStatus, _ history: String, _ dueAfter: TimeInterval?, _ duplicate: Bool) {
        let step = DeliveryStep(after: Self.outcome(result), previousAttempts: previous, policy: Self.policy, jitter: 0)
        #expect(step.status == status)
        #expect(step.attempts == previous + 1)
        #expect(step.attemptOutcome == history)
        #expect(step.dueAt == dueAfter.map { Self.at.addingTimeInterval($0) })
        #expect(step.sentAt == (result == .sent ? Self.at : nil))
        #expect(step.possibleDuplicate == duplicate)
    }

    @Test("jitter spreads a deferred letter's next try down by up to half, never under the base")
    func jitter() {
        let late = DeliveryStep(after: Self.outcome(.transient), previousAttempts: 1, policy: Self.policy, jitter: 0.999)
        #expect(late.dueAt == Self.at.addingTimeInterval(max(60, 120 * (1 - 0.5 * 0.999))))
        let first = DeliveryStep(after: Self.outcome(.transient), previousAttempts: 0, policy: Self.policy, jitter: 0.999)
        #expect(first.dueAt == Self.at.addingTimeInterval(60))
    }
}
