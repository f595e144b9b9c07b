import AsyncAlgorithms
import Appeals
import Foundation
import Logging

/// Delivers due letters: claims them in batches, sends them over `smtp.connections` sessions working in
/// parallel, and commits every attempt.
///
/// A run is a task group of stages, each waiting on the one before: claims (on the database's thread) →
/// message building (on every core) → one session per connection (each on a thread of its own, since
/// libcurl blocks) → the recorder (the database's thread again), which commits replies in batches. Claims
/// reach the builder through a channel without a buffer, and built messages wait for the sessions in a
/// buffer of two claims: the claims stay at most a few batches ahead of the wire.
///
/// Durability: a letter is `sending` from its claim until its outcome is committed. The database never makes
/// the wire wait; meanwhile the run's journal (``SendJournal``) notes each letter as it is handed over and its
/// reply with the next letter (in the run's memory until then, and committed within a tenth of a second). If the
/// process dies, the next run settles its letters from the journal: replies are recorded, letters never handed
/// over go back to the queue, and only the ones on the wire at the moment of death (at
/// most one per connection) are queued again with the same Message-ID and counted as possible duplicates.
///
/// Cancelling the task that runs ``run(_:)`` (a signal, a service shutting down) ends the run early and
/// cleanly: no more letters are handed over, the ones on the wire finish and are recorded, the others go
/// back to the queue, and the summary says `interrupted`.
public final class Dispatcher: Sendable {
    let store: any DeliveryStore
    let config: AppConfig
    let transport: any MailTransport
    let now: @Sendable () -> Date
    /// Called after each commit with the letters done so far and the letters due at the start.
    public let progress: (@Sendable (Int, Int) -> Void)?
    /// Steps and replies; never a password or a letter's text.
    let logger: Logger

    /// Letters per claim, per session.
    static let claimPerSession = 16
    /// Outcomes per commit at most, and the longest an outcome waits for its commit.
    static let commitEvery = 256
    static let commitAfter: Duration = .milliseconds(100)
    /// How often a run settles the runs that died while it runs: a run's lease on PostgreSQL lasts 30 seconds.
    static let recoverEvery: TimeInterval = 30

    public init(store: any DeliveryStore, config: AppConfig, transport: any MailTransport, now: @escaping @Sendable () -> Date = { Date() },
                logger: Logger = Logger(label: "appeal.send"), progress: (@Sendable (Int, Int) -> Void)? = nil) {
        self.store = store
        self.config = config
        self.transport = transport
        self.now = now
        self.logger = logger
        self.progress = progress
    }

    /// The message builder; with `sender.bounceAddress`, it reads the database's VERP key.
    func factory() throws(AppealsError) -> MessageFactory {
        let returnPath = try config.sender.bounceAddress.flatMap { address throws(AppealsError) in
            ReturnPath(bounceAddress: address, key: try store.secretKey(named: "verp"))
        }
        return MessageFactory(sender: config.sender, returnPath: returnPath, now: now)
    }

    /// Delivers the letters due now, or checks them (`options.dryRun`).
    ///
    /// The run is not cancelled with its caller: it must still record what is on the wire. Cancelling the
    /// caller halts it instead, and this returns once it has drained.
    public func run(_ options: SendOptions) async throws(AppealsError) -> SendSummary {
        let databaseThread = ThreadExecutor(name: "appeal-db")
        defer { databaseThread.shutdown() }
        let state = SendRunState()
        let run = Task(executorPreference: databaseThread) { () async -> Result<SendSummary, AppealsError> in
            do throws(AppealsError) {
                return .success(options.dryRun ? try self.dryRun(options) : try await self.deliver(options, state: state))
            } catch {
                return .failure(error)
            }
        }
        let result = await withTaskCancellationHandler(operation: { await run.value }, onCancel: { state.halt(.interrupted) })
        return try result.get()
    }

    /// A job's fate: a reply and what it means for the letter, or not attempted (its target was closed, it was
    /// withdrawn, or the run halted).
    struct Done: Sendable {
        let job: DeliveryJob
        let reply: TransportReply?
        /// `nil` when the letter was not handed over.
        var outcome: DeliveryOutcome? = nil
    }

    /// A job and its message, built before a session takes it.
    struct Prepared: Sendable {
        let job: DeliveryJob
        let message: Result<MessageFactory.Built, MailerError>
    }

    /// The run itself, on the database's thread (the task's preferred executor), its stages in a task group.
    private func deliver(_ options: SendOptions, state: SendRunState) async throws(AppealsError) -> SendSummary {
        let run = try store.beginSendRun()
        let journal = run.journal
        // The journal is kept when the run could not write everything down: the next run settles its letters from it.
        var settled = false
        defer { run.end(settled: settled) }
        var summary = SendSummary()
        let policy = RetryPolicy(config.limits)
        summary.possibleDuplicates += try store.recoverDeadRuns(now: now(), policy: policy)
        logger.debug("send run \(run.id) through \(transport); \(summary.possibleDuplicates) possible duplicates from dead runs")

        let factory = try factory()
        let connections = max(1, config.smtp.connections)
        let total = min(options.limit ?? Int.max, try store.dueCount(campaign: options.campaign, now: now()))
        // A claim is a transaction of a handful of queries that writes whole index pages to the log
        // whatever its size: never fewer than 128 letters (64 cost 15% more CPU per letter sent).
        let batch = max(128, connections * Self.claimPerSession)
        let claims = AsyncChannel<[DeliveryJob]>()
        // Two claims' worth of built messages wait for the sessions, which take them without waiting.
        let handOut = AsyncBuffer<Prepared>(capacity: 2 * batch)
        let replies = ReplyCollector(batchSize: Self.commitEvery)
        let store = store
        let limiter = RateLimiter(perSecond: config.limits.messagesPerSecond, shared: { interval throws(AppealsError) in
            try store.reserveSendSlot(interval: interval)
        })
        let sessionThreads = (0..<connections).map { ThreadExecutor(name: "appeal-smtp-\($0)") }
        defer { sessionThreads.forEach { $0.shutdown() } }

        let failure: AppealsError? = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await self.claim(options, owner: run.id, batch: batch, state: state, into: claims)
            }
            group.addTask(executorPreference: globalConcurrentExecutor) {
                for await jobs in claims {
                    var ready: [Prepared] = []
                    for item in await Self.build(jobs, with: factory) {
                        // Letters that may not go (run halted, target closed, letter withdrawn) skip the sessions.
                        if state.mayHandOver(item.job) { ready.append(item) } else { replies.giveBack(item.job) }
                    }
                    await handOut.send(contentsOf: ready)
                }
                handOut.finish()
            }
            group.addTask(executorPreference: globalConcurrentExecutor) {
                await withTaskGroup(of: Void.self) { sessions in
                    for thread in sessionThreads {
                        sessions.addTask(executorPreference: thread) {
                            await self.work(taking: handOut, state: state, limiter: limiter, journal: journal, replies: replies)
                        }
                    }
                }
                replies.end()
            }
            group.addTask(executorPreference: globalConcurrentExecutor) {
                while !Task.isCancelled {
                    try? await Task.sleep(for: Self.commitAfter)
                    replies.tick()
                }
            }
            let failure = await self.record(replies, summary: &summary, total: total, policy: policy, owner: run.id, state: state)
            group.cancelAll()
            return failure
        }
        // Whatever the sessions did not take goes back as it was. If the database failed, what was not
        // committed stays `sending`, and the journal kept here lets the next run settle it.
        if let failure { throw failure }
        if case .halted(.storage(let error)) = state.phase { throw error }
        try store.release(Array(state.unsettled), owner: run.id, now: now())
        settled = true
        summary.reachedLimit = state.limitReached
        if case .halted(let halt) = state.phase {
            switch halt {
            case .interrupted:
                summary.interrupted = true
            case .server(let reply) where summary.stopped == nil:
                summary.stopped = reply.text
                summary.stoppedForConfiguration = reply.kind == .stopRun(.configuration)
            case .server, .storage:
                break
            }
        }
        summary.waiting = try store.waitingLetters(campaign: options.campaign, now: now())
        return summary
    }

    /// Claims due letters a batch at a time, as fast as the stages after it take them, until none is left,
    /// the run's limit is reached or the run halts.
    private func claim(_ options: SendOptions, owner: String, batch: Int, state: SendRunState,
                       into claims: AsyncChannel<[DeliveryJob]>) async {
        var toClaim = options.limit ?? Int.max
        while toClaim > 0 && !state.isHalted {
            do throws(AppealsError) {
                let jobs = try store.claimDueLetters(rules(options, limit: min(toClaim, batch), owner: owner))
                if jobs.isEmpty { break }
                state.claimed(jobs.map { $0.letter.id! })
                toClaim -= jobs.count
                await claims.send(jobs)
                // The commits share this thread: when the sessions take claims as fast as they come (slow claims),
                // the send above never waits, and the commits would wait for the last claim.
                await Task.yield()
            } catch {
                state.halt(.storage(error))
            }
        }
        if options.limit != nil && toClaim <= 0 { state.limitReached = true }
        claims.finish()
    }

    /// Builds the jobs' messages, on every core.
    private static func build(_ jobs: [DeliveryJob], with factory: MessageFactory) async -> [Prepared] {
        await jobs.parallelMap { job in
            do throws(MailerError) {
                return Prepared(job: job, message: .success(try factory.build(job)))
            } catch {
                return Prepared(job: job, message: .failure(error))
            }
        }
    }

    /// One session's work, on its own thread: takes the next letter, hands it to the server and passes the
    /// reply on; the journal hears of each letter before the server does, and of its reply with the next letter's
    /// start (one note per letter), or when the session ends.
    private func work(taking handOut: AsyncBuffer<Prepared>, state: SendRunState, limiter: RateLimiter, journal: any SendJournal,
                      replies: ReplyCollector) async {
        let session = transport.makeSession()
        defer { session.close() }
        // The last reply, noted with the next letter's start (or when the session ends).
        var unnoted: (letterId: Int64, outcome: DeliveryOutcome?)?
        defer { if let unnoted { journal.replied(unnoted.letterId, unnoted.outcome) } }
        while let item = await handOut.next() {
            let id = item.job.letter.id!
            let reply: TransportReply
            // A halted run (or a withdrawn letter) gives its letters back at once, without waiting for a slot.
            guard state.mayHandOver(item.job) else {
                replies.giveBack(item.job)
                continue
            }
            switch item.message {
            case .success(let message):
                do throws(AppealsError) {
                    try limiter.acquire()
                    // The wait for a slot may be long: the run may have halted, the letter been withdrawn meanwhile.
                    guard state.mayHandOver(item.job) else {
                        replies.giveBack(item.job)
                        continue
                    }
                    try journal.started(id, after: unnoted)
                    unnoted = nil
                } catch {
                    // Unrecorded, a letter handed over could go out twice after a crash: the run stops instead.
                    state.halt(.storage(error))
                    replies.giveBack(item.job)
                    continue
                }
                var delivered = session.deliver(message.bytes, envelope: message.envelope)
                if delivered.kind == .accepted, let copy = message.copy {
                    // The supporter's copy, sent apart (VERP): its refusal is noted, not a failure of the letter.
                    let copyReply = session.deliver(message.bytes, envelope: copy)
                    if copyReply.kind != .accepted { delivered.refusedCopies.append(copyReply.text) }
                }
                reply = delivered
            case .failure(let error):
                reply = TransportReply(.permanent, code: nil, text: "cannot build the message: \(error)")
            }
            let outcome = reply.outcome(letterId: id, at: now())
            if let unnoted { journal.replied(unnoted.letterId, unnoted.outcome) }
            unnoted = (id, outcome)
            state.observe(reply, for: item.job, closesTarget: outcome?.disablesTarget == true)
            replies.add(Done(job: item.job, reply: reply, outcome: outcome))
        }
    }

    /// Commits what the sessions report, in batches of up to ``commitEvery`` or every ``commitAfter``, and
    /// at each turn withdraws the letters that other commands have taken from the run.
    /// - Returns: the database's failure, if committing failed (the run then halts and commits no more).
    private func record(_ replies: ReplyCollector, summary: inout SendSummary, total: Int, policy: RetryPolicy, owner: String,
                        state: SendRunState) async -> AppealsError? {
        var done = 0
        var failure: AppealsError?
        var lastRecovery = now()
        for await _ in replies.wakes {
            let (pending, ended) = replies.take()
            if failure == nil && !pending.isEmpty {
                do throws(AppealsError) {
                    try commit(pending, summary: &summary, policy: policy, owner: owner)
                    state.settled(pending.map { $0.job.letter.id! })
                    done += pending.filter { $0.reply != nil }.count
                    progress?(done, max(total, done))
                } catch {
                    failure = error
                    state.halt(.storage(error))
                }
            }
            if ended { break }
            // A campaign paused or closed, a supporter erased, a target disabled by another command: their letters
            // not yet handed over are not sent, and go back (or stay cancelled) within one turn.
            if failure == nil && state.hasUnsettled {
                do throws(AppealsError) {
                    state.keepOnly(try store.sendableClaims(owner: owner))
                } catch {
                    failure = error
                    state.halt(.storage(error))
                }
            }
            // Runs that died meanwhile are settled within a run, not only when one starts: a long run would leave
            // their letters waiting for its end.
            if failure == nil && now().timeIntervalSince(lastRecovery) >= Self.recoverEvery {
                lastRecovery = now()
                do throws(AppealsError) {
                    summary.possibleDuplicates += try store.recoverDeadRuns(now: lastRecovery, policy: policy)
                } catch {
                    failure = error
                    state.halt(.storage(error))
                }
            }
        }
        return failure
    }

    /// Commits finished jobs in one transaction and counts them into `summary`.
    private func commit(_ finished: [Done], summary: inout SendSummary, policy: RetryPolicy, owner: String) throws(AppealsError) {
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
            if outcome.result != .sent {
                logger.info("letter not sent", metadata: ["letter": "\(job.letter.id!)", "target": "\(job.target.email)",
                                                         "result": "\(outcome.result)", "reply": "\(outcome.reply)"])
            }
            if outcome.result == .unknown { summary.possibleDuplicates += 1 }
            if outcome.disablesTarget { summary.disabledTargets.append(job.target.email) }
            if !reply.refusedCopies.isEmpty { summary.refusedCopies += 1 }
            outcomes.append(outcome)
        }
        let statuses = try store.record(outcomes, owner: owner, policy: policy)
        try store.release(unattempted, owner: owner, now: at)
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
        let factory = try factory()
        var rules = rules(options, limit: min(options.limit ?? Int.max, 1000), owner: "dry-run")
        rules.perTargetPerHour = 0
        var after: DueKey?
        repeat {
            let page = try store.dueLetters(rules, after: after)
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
