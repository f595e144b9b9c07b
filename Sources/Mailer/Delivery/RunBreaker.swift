/// Decides when a run must stop because the server, not the letters, is at fault: several timeouts in a
/// row, or the same refusal for letters to several targets in a row.
struct RunBreaker {
    /// Timeouts in a row (stalls before the message, or no reply after it) that stop a run.
    static let timeoutsInARow = 3
    /// Identical refusals in a row, for at least two different targets, that stop a run.
    static let sameRefusalsInARow = 5

    private var timeouts = 0
    private var refusal: (signature: String, count: Int, targets: Set<Int64>)?

    /// Takes the next reply, in the order replies came; returns the reply to stop the run with, if it must stop.
    /// - Parameter closesTarget: the reply says the target's own mailbox is gone: a verdict on that address
    ///   alone (its target is disabled), which says nothing of the server.
    mutating func observe(_ reply: TransportReply, target: Int64, closesTarget: Bool) -> TransportReply? {
        if closesTarget { return nil }
        switch reply.kind {
        case .stalled, .unknownOutcome:
            refusal = nil
            timeouts += 1
            guard timeouts >= Self.timeoutsInARow else { return nil }
            return TransportReply(.stopRun(.unreachable), code: nil,
                                  text: "the server stopped answering: \(timeouts) timeouts in a row (\(reply.text))")
        case .permanent:
            timeouts = 0
            let signature = "\(reply.code ?? 0) \(EnhancedStatus(reply: reply.text)?.description ?? "")"
            if refusal?.signature == signature {
                refusal!.count += 1
                refusal!.targets.insert(target)
            } else {
                refusal = (signature, 1, [target])
            }
            guard let refusal, refusal.count >= Self.sameRefusalsInARow, refusal.targets.count >= 2 else { return nil }
            return TransportReply(.stopRun(.refused), code: reply.code,
                                  text: "the server refused \(refusal.count) letters in a row to \(refusal.targets.count) targets the same way, so it is refusing us, not them: \(reply.text)")
        case .accepted, .transient:
            timeouts = 0
            refusal = nil
            return nil
        case .stopRun:
            return nil
        }
    }
}
