/// Decides when a run must stop because the server, not the letters, is at fault: several timeouts or busy
/// replies in a row, the same refusal several times in a row, or several targets in a row refused as
/// nonexistent (a relay refusing every recipient).
struct RunBreaker {
    /// Timeouts or busy replies in a row (before the message, or no reply after it) that stop a run.
    static let timeoutsInARow = 3
    /// Identical refusals in a row that stop a run.
    static let sameRefusalsInARow = 5
    /// Targets in a row refused as nonexistent, with nothing accepted between, that stop a run.
    static let deadTargetsInARow = 3

    private var timeouts = 0
    private var deadTargets = 0
    private var refusal: (signature: String, count: Int)?

    /// Takes the next reply, in the order replies came; returns the reply to stop the run with, if it must stop.
    /// - Parameter closesTarget: the reply says the target's own mailbox is gone (its target is disabled).
    mutating func observe(_ reply: TransportReply, target: Int64, closesTarget: Bool) -> TransportReply? {
        if closesTarget {
            timeouts = 0
            refusal = nil
            deadTargets += 1
            guard deadTargets >= Self.deadTargetsInARow else { return nil }
            return TransportReply(.stopRun(.refused), code: reply.code,
                                  text: "\(deadTargets) targets in a row were refused as nonexistent (each is disabled; `target enable` if the relay was wrong), so the run stops before more are: \(reply.text)")
        }
        switch reply.kind {
        case .stalled, .serverBusy, .unknownOutcome:
            refusal = nil
            timeouts += 1
            guard timeouts >= Self.timeoutsInARow else { return nil }
            return TransportReply(.stopRun(.unreachable), code: reply.code,
                                  text: "the server stopped answering or taking letters: \(timeouts) times in a row (\(reply.text))")
        case .permanent:
            timeouts = 0
            let signature = "\(reply.code ?? 0) \(EnhancedStatus(reply: reply.text)?.description ?? "")"
            if refusal?.signature == signature {
                refusal!.count += 1
            } else {
                refusal = (signature, 1)
            }
            guard let refusal, refusal.count >= Self.sameRefusalsInARow else { return nil }
            return TransportReply(.stopRun(.refused), code: reply.code,
                                  text: "the server refused \(refusal.count) letters in a row the same way, so it is refusing us, not them: \(reply.text)")
        case .accepted, .transient:
            timeouts = 0
            deadTargets = 0
            refusal = nil
            return nil
        case .stopRun:
            return nil
        }
    }
}
