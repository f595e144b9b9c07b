import Appeals
import Foundation
import Synchronization

/// What the stages of one send run share: whether letters may still be handed over, which may not, and
/// the letters claimed and not yet settled in the database.
final class SendRunState: Sendable {
    /// Why a run stops handing letters over before it has run out of them.
    enum Halt: Sendable {
        /// Asked to stop (a signal, a service shutting down): the task running it was cancelled.
        case interrupted
        /// The server, not the letters, is at fault (``RunBreaker``), or a reply said nothing can be sent now.
        case server(TransportReply)
        /// The database failed: what is not committed stays `sending`, for the journal to settle.
        case storage(AppealsError)
    }

    enum Phase: Sendable {
        /// Claiming letters and handing them over.
        case sending
        /// No letter is handed over any more; those on the wire finish and are recorded.
        case halted(Halt)
    }

    private struct Shared {
        var phase = Phase.sending
        /// Targets whose mailbox turned out not to exist in this run: their other letters wait, unsent.
        var closedTargets: Set<Int64> = []
        /// Letters the store no longer lets this run send: campaign paused or closed, supporter erased,
        /// target disabled by another command.
        var withdrawn: Set<Int64> = []
        /// Claimed, not yet recorded or released.
        var unsettled: Set<Int64> = []
        /// The run claimed as many letters as its limit allowed.
        var limitReached = false
        var breaker = RunBreaker()
    }

    private let shared = Mutex(Shared())

    var phase: Phase { shared.withLock { $0.phase } }

    var isHalted: Bool {
        if case .halted = phase { return true }
        return false
    }

    /// Stops handing letters over; the first reason given is kept.
    func halt(_ reason: Halt) {
        shared.withLock { state in
            if case .sending = state.phase { state.phase = .halted(reason) }
        }
    }

    func claimed(_ ids: [Int64]) {
        shared.withLock { $0.unsettled.formUnion(ids) }
    }

    /// The run claimed as many letters as its limit allowed: whatever is left waits for the next run.
    var limitReached: Bool {
        get { shared.withLock { $0.limitReached } }
        set { shared.withLock { $0.limitReached = newValue } }
    }

    func settled(_ ids: some Sequence<Int64>) {
        shared.withLock { $0.unsettled.subtract(ids) }
    }

    /// Claimed letters not yet settled: at the end of a run, the ones to give back.
    var unsettled: Set<Int64> { shared.withLock { $0.unsettled } }

    /// Whether any claimed letter is not yet settled, without copying them.
    var hasUnsettled: Bool { shared.withLock { !$0.unsettled.isEmpty } }

    /// Withdraws every unsettled letter that is not in `sendable`.
    func keepOnly(_ sendable: Set<Int64>) {
        shared.withLock { state in state.withdrawn.formUnion(state.unsettled.subtracting(sendable)) }
    }

    /// Whether `job` may be handed to a server now.
    func mayHandOver(_ job: DeliveryJob) -> Bool {
        shared.withLock { state in
            if case .halted = state.phase { return false }
            return !state.closedTargets.contains(job.letter.targetId) && !state.withdrawn.contains(job.letter.id!)
        }
    }

    /// Takes a reply in the order replies came: closes its target when its mailbox is gone, and halts the run
    /// when the reply or the run of replies says the server is at fault.
    func observe(_ reply: TransportReply, for job: DeliveryJob, closesTarget: Bool) {
        shared.withLock { state in
            if closesTarget { state.closedTargets.insert(job.letter.targetId) }
            if case .stopRun = reply.kind, case .sending = state.phase { state.phase = .halted(.server(reply)) }
            if let verdict = state.breaker.observe(reply, target: job.letter.targetId, closesTarget: closesTarget),
               case .sending = state.phase {
                state.phase = .halted(.server(verdict))
            }
        }
    }
}
