import Appeals
import Foundation

/// The sending half of a run: messages are built as jobs arrive, on every core; one thread per session
/// takes them in order, sends each and hands the reply back, while the dispatcher claims more letters
/// and commits replies meanwhile. A session thread does nothing but talk to its server.
final class Pipeline: @unchecked Sendable {
    /// A job's fate: a reply and what it means for the letter, or not attempted (its target was closed, or
    /// the run must stop).
    struct Done {
        let job: DeliveryJob
        let reply: TransportReply?
        /// `nil` when the letter was not handed over.
        var outcome: DeliveryOutcome? = nil
    }

    private let condition = NSCondition()
    private var queue: [Prepared] = []
    private var head = 0
    private var done: [Done] = []
    private var inFlight = 0
    private var closed = false
    private(set) var stopped = false
    private var closedTargets: Set<Int64> = []
    /// Letters that must not be sent after all: their campaign was paused or closed, their supporter erased.
    private var withdrawn: Set<Int64> = []
    /// Letters a session has taken and not finished: it may still be waiting for its slot under the rate limit.
    private var taken: Set<Int64> = []
    private var breaker = RunBreaker()
    /// Why the pipeline stopped itself, when it did (too many timeouts, or the same refusal for every letter).
    private(set) var haltReason: TransportReply?
    private var threads: [Thread] = []
    private var running = 0

    /// A job and its message, built before a session takes it.
    private struct Prepared {
        let job: DeliveryJob
        let message: Result<(bytes: [UInt8], envelope: Envelope), MailerError>
    }

    private let factory: MessageFactory

    /// - Parameter journal: where each session notes a letter before handing it over and its reply at once.
    init(sessions: [any MailSession], limiter: RateLimiter, factory: MessageFactory, journal: DeliveryJournal,
         now: @escaping @Sendable () -> Date) {
        self.factory = factory
        running = sessions.count
        for session in sessions {
            let box = UncheckedSession(session: session)
            let thread = Thread { [self] in
                while let item = take() {
                    let id = item.job.letter.id!
                    let reply: TransportReply
                    switch item.message {
                    case .success(let message):
                        limiter.acquire()
                        // The wait for a slot may be long: the letter may have been withdrawn meanwhile.
                        guard stillWanted(item.job) else { continue }
                        journal.started(id)
                        reply = box.session.deliver(message.bytes, envelope: message.envelope)
                    case .failure(let error):
                        reply = TransportReply(.permanent, code: nil, text: "cannot build the message: \(error)")
                    }
                    let outcome = reply.outcome(letterId: id, at: now())
                    journal.replied(id, outcome)
                    finish(Done(job: item.job, reply: reply, outcome: outcome))
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

    /// Builds the jobs' messages, on every core, and queues them for the sessions.
    func enqueue(_ jobs: [DeliveryJob]) {
        let prepared = Self.build(jobs, with: factory)
        condition.withLock {
            if head > 1024 {
                queue.removeFirst(head)
                head = 0
            }
            queue += prepared
            condition.broadcast()
        }
    }

    private static func build(_ jobs: [DeliveryJob], with factory: MessageFactory) -> [Prepared] {
        jobs.concurrentMap { job in
            do throws(MailerError) {
                return Prepared(job: job, message: .success(try factory.build(job)))
            } catch {
                return Prepared(job: job, message: .failure(error))
            }
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

    /// Keeps the waiting jobs whose letters are in `valid` and gives back the others unsent: the store no longer
    /// lets this run send them.
    func withdrawAll(but valid: Set<Int64>) {
        condition.withLock {
            for item in queue[head...] where !valid.contains(item.job.letter.id!) { withdrawn.insert(item.job.letter.id!) }
            withdrawn.formUnion(taken.subtracting(valid))
        }
    }

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
            return queue[head...].map(\.job)
        }
    }

    private func take() -> Prepared? {
        condition.withLock {
            while true {
                if stopped { return nil }
                while head < queue.count {
                    let item = queue[head]
                    head += 1
                    if closedTargets.contains(item.job.letter.targetId) || withdrawn.contains(item.job.letter.id!) {
                        done.append(Done(job: item.job, reply: nil))
                        condition.broadcast()
                        continue
                    }
                    inFlight += 1
                    taken.insert(item.job.letter.id!)
                    return item
                }
                if closed { return nil }
                condition.wait()
            }
        }
    }

    /// Whether a job taken by a session may still be sent; if not, it is handed back unsent.
    private func stillWanted(_ job: DeliveryJob) -> Bool {
        condition.withLock {
            guard withdrawn.contains(job.letter.id!) || stopped else { return true }
            inFlight -= 1
            taken.remove(job.letter.id!)
            done.append(Done(job: job, reply: nil))
            condition.broadcast()
            return false
        }
    }

    private func finish(_ item: Done) {
        let job = item.job, reply = item.reply!
        let closing = item.outcome?.disablesTarget == true
        condition.withLock {
            inFlight -= 1
            taken.remove(job.letter.id!)
            done.append(item)
            if case .stopRun = reply.kind { stopped = true }
            if let verdict = breaker.observe(reply, target: job.letter.targetId, closesTarget: closing), haltReason == nil {
                haltReason = verdict
                stopped = true
            }
            if closing { closedTargets.insert(job.letter.targetId) }
            condition.broadcast()
        }
    }
}

/// A session handed to the one thread that uses it.
private struct UncheckedSession: @unchecked Sendable {
    let session: any MailSession
}
