import Appeals
import Synchronization

/// Replies on their way from the sessions to the recorder, handed over a batch at a time: the recorder is
/// woken when a batch is full, at each tick of its clock and at the end, not for every reply.
final class ReplyCollector: Sendable {
    private struct Pending {
        var items: [Dispatcher.Done] = []
        var ended = false
    }

    private let pending = Mutex(Pending())
    private let signal: AsyncStream<Void>.Continuation
    /// One element each time there may be something to take; wake-ups that come while the recorder is busy
    /// merge into one.
    let wakes: AsyncStream<Void>
    let batchSize: Int

    init(batchSize: Int) {
        self.batchSize = batchSize
        (wakes, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func add(_ item: Dispatcher.Done) {
        let full = pending.withLock { pending in
            pending.items.append(item)
            return pending.items.count == batchSize
        }
        if full { signal.yield() }
    }

    /// A letter given back without being handed over (run halted, target closed, letter withdrawn).
    func giveBack(_ job: DeliveryJob) {
        add(Dispatcher.Done(job: job, reply: nil))
    }

    /// Time to take what has come, full batch or not.
    func tick() {
        signal.yield()
    }

    /// Nothing more will come.
    func end() {
        pending.withLock { $0.ended = true }
        signal.yield()
    }

    /// What has come since the last call, and whether that is all.
    func take() -> (items: [Dispatcher.Done], ended: Bool) {
        pending.withLock { pending in
            defer { pending.items.removeAll(keepingCapacity: true) }
            return (pending.items, pending.ended)
        }
    }
}
