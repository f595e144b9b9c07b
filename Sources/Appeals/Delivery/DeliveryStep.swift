import Foundation

/// Where a letter goes after one attempt to hand it over: the delivery rule, apart from any store.
public struct DeliveryStep: Sendable, Equatable {
    public var status: LetterStatus
    /// Attempts made, this one included.
    public var attempts: Int
    /// When a deferred letter is due again; `nil` when it is not deferred.
    public var dueAt: Date?
    /// When the letter was accepted; `nil` when it was not.
    public var sentAt: Date?
    /// The attempt as the delivery history names it: `sent`, `failed`, `deferred` or `unknown`.
    public var attemptOutcome: String
    /// The server may have accepted the letter although the run could not tell.
    public var possibleDuplicate: Bool

    /// The step after `outcome`, for a letter that had been tried `previousAttempts` times.
    /// - Parameter jitter: a number in `0..<1`, to spread deferred letters apart.
    public init(after outcome: DeliveryOutcome, previousAttempts: Int, policy: RetryPolicy, jitter: Double) {
        attempts = previousAttempts + 1
        dueAt = nil
        sentAt = nil
        possibleDuplicate = outcome.result == .unknown
        switch outcome.result {
        case .sent:
            status = .sent
            sentAt = outcome.at
            attemptOutcome = "sent"
        case .permanent:
            status = .failed
            attemptOutcome = "failed"
        case .transient, .unknown:
            if attempts >= policy.maxAttempts {
                status = .failed
            } else {
                status = .deferred
                dueAt = outcome.at.addingTimeInterval(policy.delay(afterAttempt: attempts, jitter: jitter))
            }
            attemptOutcome = outcome.result == .unknown ? "unknown" : "deferred"
        }
    }
}
