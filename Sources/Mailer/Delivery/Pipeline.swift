import Appeals
import Foundation

/// The sending half of a run: one thread per session takes jobs in order, builds the message, sends it
/// and hands the reply back, while the dispatcher claims more letters and commits replies meanwhile.
final class Pipeline: @unchecked Sendable {
    /// A job's fate: a reply, or not attempted (its target was closed, or the run must stop).
    struct Done {
        let job: DeliveryJob
        let reply: TransportReply?
    }

    private let condition = NSCondition()
    private var queue: [DeliveryJob] = []
    private var head = 0
    private var done: [Done] = []
    private var inFlight = 0
    private var closed = false
    private(set) var stopped = false
    private var closedTargets: Set<Int64> = []
    private var threads: [Thread] = []
    private var running = 0

    init(sessions: [any MailSession], limiter: RateLimiter, factory: MessageFactory,
         closesTarget: @escaping @Sendable (TransportReply, DeliveryJob) -> Bool) {
        running = sessions.count
        for session in sessions {
            let box = UncheckedSession(session: session)
            let thread = Thread { [self] in
                while let job = take() {
                    let reply: TransportReply
                    do {
                        let message = try factory.build(job)
                        limiter.acquire()
                        reply = box.session.deliver(message.bytes, envelope: message.envelope)
                    } catch {
                        reply = TransportReply(.permanent, code: nil, text: "cannot build the message: \(error)")
                    }
                    finish(job, reply, closing: closesTarget(reply, job))
                }
                condition.withLock {
                    running -= 1
                    condition.broadcast()
                }
            }
            thread.stackSize = 1 << 20
            threads.append(thread)
        }
        threads.forEach { $0.start() }
    }

    /// Jobs waiting to be sent.
    var waiting: Int { condition.withLock { queue.count - head } }

    func enqueue(_ jobs: [DeliveryJob]) {
        condition.withLock {
            if head > 1024 {
                queue.removeFirst(head)
                head = 0
            }
            queue += jobs
            condition.broadcast()
        }
    }

    /// No more jobs will come: the threads end once the queue is empty.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }

    /// Waits until `count` jobs are done, fewer than `refill` wait to be sent (and more could be claimed),
    /// every thread has ended, or `timeout` passes; returns what is done.
    func collect(atLeast count: Int, refillBelow refill: Int, timeout: TimeInterval) -> [Done] {
        condition.withLock {
            let deadline = Date().addingTimeInterval(timeout)
            while done.count < count && running > 0 && (closed || stopped || queue.count - head >= refill)
                && condition.wait(until: deadline) {}
            defer { done.removeAll(keepingCapacity: true) }
            return done
        }
    }

    /// Whether every job handed in has come back (or, once stopped, nothing is still being sent).
    var idle: Bool { condition.withLock { (head == queue.count || stopped) && inFlight == 0 && done.isEmpty } }

    /// Stops handing out jobs: the ones being sent finish, the others are returned by `join`.
    func halt() {
        condition.withLock {
            stopped = true
            condition.broadcast()
        }
    }

    /// Waits for the threads to end; the jobs nobody took are returned, not attempted.
    func join() -> [DeliveryJob] {
        close()
        condition.withLock {
            while running > 0 { condition.wait() }
        }
        return condition.withLock {
            defer { head = queue.count }
            return Array(queue[head...])
        }
    }

    private func take() -> DeliveryJob? {
        condition.withLock {
            while true {
                if stopped { return nil }
                while head < queue.count {
                    let job = queue[head]
                    head += 1
                    if closedTargets.contains(job.letter.targetId) {
                        done.append(Done(job: job, reply: nil))
                        condition.broadcast()
                        continue
                    }
                    inFlight += 1
                    return job
                }
                if closed { return nil }
                condition.wait()
            }
        }
    }

    private func finish(_ job: DeliveryJob, _ reply: TransportReply, closing: Bool) {
        condition.withLock {
            inFlight -= 1
            done.append(Done(job: job, reply: reply))
            if case .stopRun = reply.kind { stopped = true }
            if closing { closedTargets.insert(job.letter.targetId) }
            condition.broadcast()
        }
    }
}

/// A session handed to the one thread that uses it.
private struct UncheckedSession: @unchecked Sendable {
    let session: any MailSession
}
