import Appeals
import Foundation

extension TransportReply {
    /// What this reply means for the letter it answers: `nil` when the letter was not handed over after all
    /// (the run must stop, or the server stalled or was busy before it), so that it stays due and is no
    /// attempt.
    public func outcome(letterId: Int64, at: Date) -> DeliveryOutcome? {
        let result: DeliveryResult
        switch kind {
        case .stopRun, .stalled, .serverBusy: return nil
        case .accepted: result = .sent
        case .transient: result = .transient
        case .unknownOutcome: result = .unknown
        case .permanent: result = .permanent
        }
        var recorded = text
        if !refusedCopies.isEmpty {
            recorded += " (copy to the supporter refused: \(refusedCopies.joined(separator: "; ")))"
        }
        // Other letters to a target whose mailbox is gone are not tried: they stay queued behind the disabled target.
        return DeliveryOutcome(letterId: letterId, result: result, code: code, reply: recorded, at: at,
                               disablesTarget: isTargetMailboxUnavailable)
    }
}
