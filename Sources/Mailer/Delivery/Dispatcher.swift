import Appeals
import Foundation
import Logging
import Synchronization

/// Delivers due letters: claims them in batches, sends them over `smtp.connections` sessions working in
/// parallel, and commits every attempt.
///
/// Durability: a letter is `sending` from its claim until its outcome is committed. Claims run a little
/// ahead of the sessions and outcomes are committed in batches, so the database never makes the wire wait;
/// meanwhile the run's ``DeliveryJournal`` notes each letter as it is handed over and its reply as it comes.
/// If the process dies, the next run settles its letters from the journal: replies are recorded, letters
/// never handed over go back to the queue, and only the ones on the wire at the moment of death (at most one
/// per connection) are queued again with the same Message-ID and counted as possible duplicates.
///
/// ``stop()`` (a signal) ends a run early and cleanly: no more letters are handed over, the ones on the wire
/// finish and are recorded, the others go back to the queue.
public final class Dispatcher: Sendable {
    let database: AppDatabase
    let config: AppConfig
    let transport: any MailTransport
    let now: @Sendable () -> Date
    /// Called after each commit with the letters done so far and the letters due at the start.
    public let progress: (@Sendable (Int, Int) -> Void)?
    /// Steps and replies; never a password or a letter's text.
    let logger: Logger
    /// Set from any thread (a signal handler's queue); read by the run at each turn.
    private let stopRequested = Atomic<Bool>(false)

    /// Letters per claim, per session.
    static let claimPerSession = 16
    /// Outcomes per commit at most, and the longest an outcome waits for its commit.
    static let commitEvery = 256
    static let commitAfter: TimeInterval = 0.1

    public init(database: AppDatabase, config: AppConfig, transport: any MailTransport, now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "appeal.send"), progress: (@Sendable (Int, Int) -> Void)? = nil) {
        self.database = database
        self.config = config
        self.transport = transport
        self.now = now
        self.logger = logger
        self.progress = progress
    }

    /// Ends the current run early: no more letters are handed over; those on the wire finish and are
    /// recorded, the others go back to the queue. Safe to call from any thread, at any time.
    public func stop() {
        stopRequested.store(true, ordering: .relaxed)
    }

    var factory: MessageFactory { MessageFactory(sender: config.sender, now: now) }
    var envelopeFrom: String { factory.envelopeFrom }

    public func run(_ options: SendOptions) throws(AppealsError) -> SendSummary {
        if options.dryRun { return try dryRun(options) }
        let lease = try SendRunLease(databasePath: database.path)
        defer { lease.end() }
        let journal = try DeliveryJournal(databasePath: database.path, runId: lease.id)
        // Kept when the run could not write everything down: the next run settles its letters from it.
        var settled = false
        defer { if settled { journal.remove() } }
        var summary = SendSummary()
        let path = database.path
        let policy = RetryPolicy(config.limits)
        summary.possibleDuplicates += try database.recoverAbandoned(now: now(), policy: policy) { SendRunLease.isAlive($0, databasePath: path) }
        logger.debug("send run \(lease.id) through \(transport); \(summary.possibleDuplicates) possible duplicates from dead runs")

        let connections = max(1, config.smtp.connections)
        let sessions = (0..<connections).map { _ in transport.makeSession() }
        defer { sessions.forEach { $0.close() } }
        let pipeline = Pipeline(sessions: sessions, limiter: RateLimiter(perSecond: config.limits.messagesPerSecond), factory: factory,
                                journal: journal, now: now)
        var toClaim = options.limit ?? Int.max
        let total = min(toClaim, try database.dueCount(campaign: options.campaign, now: now()))
        // A claim is a transaction of a handful of queries that writes whole index pages to the log
        // whatever its size: never fewer than 128 letters (64 cost 15% more CPU per letter sent). More would
        // cost a little less still, but a run that dies reports every letter it had claimed as a possible
        // duplicate.
        let batch = max(128, connections * Self.claimPerSession)
        var exhausted = false
        var done = 0
        var failure: AppealsError?

        while true {
            if stopRequested.load(ordering: .relaxed) && !summary.interrupted {
                summary.interrupted = true
                pipeline.halt()
            }
            // Keep one to two batches ahead of the sessions, one claim per turn: the turn must reach the commit
            // below however fast the sessions drain the queue.
            if !exhausted && !pipeline.stopped && toClaim > 0 && pipeline.waiting < 2 * batch {
                do {
                    let jobs = try database.claimDueLetters(rules(options, limit: min(toClaim, batch), owner: lease.id))
                    if jobs.isEmpty { exhausted = true } else { pipeline.enqueue(jobs) }
                    toClaim -= jobs.count
                } catch {
                    failure = error
                    exhausted = true
                    pipeline.halt()
                }
            }
            if exhausted || toClaim == 0 || pipeline.stopped { pipeline.close() }
            let finished = pipeline.collect(atLeast: Self.commitEvery, refillBelow: batch, timeout: Self.commitAfter)
            do {
                try commit(finished, summary: &summary, policy: policy, owner: lease.id)
            } catch {
                failure = failure ?? error
                pipeline.halt()
            }
            done += finished.filter { $0.reply != nil }.count
            if !finished.isEmpty { progress?(done, max(total, done)) }
            // A campaign paused or closed, a supporter erased, a target disabled by another command: their letters
            // waiting here are not sent, and go back (or stay cancelled) within one turn.
            if failure == nil && !pipeline.idle {
                do {
                    pipeline.withdrawAll(but: try database.sendableClaims(owner: lease.id))
                } catch {
                    failure = error
                    pipeline.halt()
                }
            }
            if (exhausted || toClaim == 0 || pipeline.stopped || failure != nil) && pipeline.idle { break }
        }
        let untouched = pipeline.join()
        // Whatever the sessions did not take goes back as it was. If the database failed, what was not
        // committed stays `sending`, and the journal kept here lets the next run settle it.
        if failure == nil {
            do {
                try database.release(untouched.map { $0.letter.id! }, owner: lease.id, now: now())
                settled = true
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        if summary.stopped == nil, let halt = pipeline.haltReason {
            summary.stopped = halt.text
            summary.stoppedForConfiguration = halt.kind == .stopRun(.configuration)
        }
        summary.waiting = try database.waitingLetters(campaign: options.campaign, now: now())
        return summary
    }

    /// Commits finished jobs in one transaction and counts them into `summary`.
    private func commit(_ finished: [Pipeline.Done], summary: inout SendSummary, policy: RetryPolicy, owner: String) throws(AppealsError) {
        guard !finished.isEmpty else { return }
        var outcomes: [DeliveryOutcome] = []
        var unattempted: [Int64] = []
        // One time for the batch: the replies came in the last 100 ms, and one instant is stored once.
        let at = now()
        for item in finished {
            let job = item.job
            guard let reply = item.reply else {
                unattempted.append(job.letter.id!)
                continue
            }
            logger.debug("letter \(job.letter.id!) \(job.letter.messageId) to \(job.target.email): \(reply.kind) \(reply.text)")
            if case .stopRun(let reason) = reply.kind, summary.stopped == nil {
                summary.stopped = reply.text
                summary.stoppedForConfiguration = reason == .configuration
            }
            // Not an attempt (the run must stop, or the server never answered or was busy before this letter was
            // handed over): the letter stays due. The run stops after a few.
            guard var outcome = item.outcome else {
                unattempted.append(job.letter.id!)
                continue
            }
            outcome.at = at
            if outcome.result == .unknown { summary.possibleDuplicates += 1 }
            if outcome.disablesTarget { summary.disabledTargets.append(job.target.email) }
            if !reply.refusedCopies.isEmpty { summary.refusedCopies += 1 }
            outcomes.append(outcome)
        }
        let statuses = try database.record(outcomes, owner: owner, policy: policy)
        try database.release(unattempted, owner: owner, now: at)
        for status in statuses.values {
            switch status {
            case .sent: summary.sent += 1
            case .deferred: summary.deferred += 1
            case .failed: summary.failed += 1
            default: break
            }
        }
    }

    private func rules(_ options: SendOptions, limit: Int, owner: String) -> ClaimRules {
        ClaimRules(campaign: options.campaign, limit: limit, now: now(), perTargetPerHour: config.limits.perTargetPerHour, owner: owner)
    }

    /// Builds and checks every due message, a page at a time; sends nothing and changes nothing. The hourly
    /// limit per target is not applied: every due message is checked, whenever it will go.
    private func dryRun(_ options: SendOptions) throws(AppealsError) -> SendSummary {
        var summary = SendSummary()
        let factory = factory
        var rules = rules(options, limit: min(options.limit ?? Int.max, 1000), owner: "dry-run")
        rules.perTargetPerHour = 0
        var after: DueKey?
        repeat {
            let page = try database.dueLetters(rules, after: after)
            for job in page.jobs.prefix((options.limit ?? Int.max) - summary.checked - summary.failed) {
                do {
                    let built = try factory.build(job)
                    if built.bytes.isEmpty || built.envelope.recipients.isEmpty { summary.failed += 1 } else { summary.checked += 1 }
                } catch {
                    summary.failed += 1
                }
            }
            after = page.next
        } while after != nil && summary.checked + summary.failed < (options.limit ?? Int.max)
        return summary
    }
}
