import Appeals
import Foundation
import Logging

/// Delivers due letters: claims them in batches, hands them to `smtp.connections` sessions working in
/// parallel, and records every attempt.
///
/// Durability: a letter is `sending` from its claim until its outcome is committed. If the process dies in
/// between, the next run finds it with a dead claimer, queues it again with the same Message-ID and counts
/// it as a possible duplicate. Nothing is lost; nothing is sent twice unless a run died.
public final class Dispatcher {
    let database: AppDatabase
    let config: AppConfig
    let transport: any MailTransport
    let now: @Sendable () -> Date
    /// Called after each batch with the letters done so far and the letters due at the start.
    public var progress: ((Int, Int) -> Void)?
    /// Steps and replies; never a password or a letter's text.
    public var logger = Logger(label: "appeal.send")

    public init(database: AppDatabase, config: AppConfig, transport: any MailTransport, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.config = config
        self.transport = transport
        self.now = now
    }

    var envelopeFrom: String { config.sender.envelopeFrom ?? config.sender.address }

    /// Builds the bytes of a letter's message, as sent.
    func message(for job: DeliveryJob) throws(MailerError) -> (bytes: [UInt8], envelope: Envelope) {
        let message = try MailMessage.appeal(
            subject: job.letter.subject, body: job.letter.body, messageID: job.letter.messageId,
            supporter: job.supporter, target: job.target, sender: config.sender, date: now())
        return (Array(message.rendered().utf8), Envelope(from: envelopeFrom, recipients: message.recipients))
    }

    public func run(_ options: SendOptions) throws(AppealsError) -> SendSummary {
        if options.dryRun { return try dryRun(options) }
        let lease = try SendRunLease(databasePath: database.path)
        defer { lease.end() }
        var summary = SendSummary()
        let path = database.path
        summary.possibleDuplicates += try database.recoverAbandoned(now: now()) { SendRunLease.isAlive($0, databasePath: path) }
        logger.debug("send run \(lease.id) through \(transport); \(summary.possibleDuplicates) letters recovered from dead runs")

        let connections = max(1, config.smtp.connections)
        let workers = Workers(sessions: (0..<connections).map { _ in transport.makeSession() },
                              limiter: RateLimiter(perSecond: config.limits.messagesPerSecond))
        defer { workers.close() }
        let policy = RetryPolicy(config.limits)
        var remaining = options.limit ?? Int.max
        let total = min(remaining, try database.dueCount(campaign: options.campaign, now: now()))
        var done = 0

        while remaining > 0 {
            let jobs = try database.claimDueLetters(rules(options, limit: min(remaining, connections * 8), owner: lease.id))
            if jobs.isEmpty { break }
            let messages = jobs.map { job in Result { () throws(MailerError) in try message(for: job) } }
            let copies = config.sender.copyToSupporter
            // Other letters to a target whose mailbox is gone are not tried: they stay queued behind the disabled target.
            let replies = workers.deliver(messages, targets: jobs.map(\.letter.targetId)) { reply, index in
                Self.disablesTarget(reply, target: jobs[index].target, copyToSupporter: copies)
            }
            var outcomes: [DeliveryOutcome] = []
            var unattempted: [Int64] = []
            for (job, reply) in zip(jobs, replies) {
                if let reply {
                    logger.debug("letter \(job.letter.id!) \(job.letter.messageId) to \(job.target.email): \(reply.kind) \(reply.text)")
                }
                guard let reply else {
                    unattempted.append(job.letter.id!)
                    continue
                }
                switch reply.kind {
                case .stopRun(let reason):
                    unattempted.append(job.letter.id!)
                    if summary.stopped == nil {
                        summary.stopped = reply.text
                        summary.stoppedForConfiguration = reason == .configuration
                    }
                case .accepted:
                    outcomes.append(DeliveryOutcome(letterId: job.letter.id!, result: .sent, code: reply.code, reply: reply.text, at: now()))
                case .transient:
                    outcomes.append(DeliveryOutcome(letterId: job.letter.id!, result: .transient, code: reply.code, reply: reply.text, at: now()))
                case .unknownOutcome:
                    summary.possibleDuplicates += 1
                    outcomes.append(DeliveryOutcome(letterId: job.letter.id!, result: .unknown, code: reply.code, reply: reply.text, at: now()))
                case .permanent:
                    let disables = Self.disablesTarget(reply, target: job.target, copyToSupporter: config.sender.copyToSupporter)
                    if disables { summary.disabledTargets.append(job.target.email) }
                    outcomes.append(DeliveryOutcome(letterId: job.letter.id!, result: .permanent, code: reply.code, reply: reply.text,
                                                    at: now(), disablesTarget: disables))
                }
            }
            let statuses = try database.record(outcomes, owner: lease.id, policy: policy)
            try database.release(unattempted, owner: lease.id, now: now())
            for status in statuses.values {
                switch status {
                case .sent: summary.sent += 1
                case .deferred: summary.deferred += 1
                case .failed: summary.failed += 1
                default: break
                }
            }
            done += outcomes.count
            remaining -= outcomes.count
            progress?(done, max(total, done))
            if summary.stopped != nil { break }
        }
        if summary.stopped == nil && remaining > 0 {
            summary.waiting = try database.dueCount(campaign: options.campaign, now: now())
        }
        return summary
    }

    /// A "mailbox unavailable" reply about the target's own address, not about a copy to the supporter.
    static func disablesTarget(_ reply: TransportReply, target: Target, copyToSupporter: Bool) -> Bool {
        reply.kind == .permanent && reply.isMailboxUnavailable
            && (!copyToSupporter || reply.text.lowercased().contains(target.email.lowercased()))
    }

    private func rules(_ options: SendOptions, limit: Int, owner: String) -> ClaimRules {
        ClaimRules(campaign: options.campaign, limit: limit, now: now(), perTargetPerHour: config.limits.perTargetPerHour, owner: owner)
    }

    /// Builds and checks every due message; sends nothing and changes nothing.
    private func dryRun(_ options: SendOptions) throws(AppealsError) -> SendSummary {
        var summary = SendSummary()
        let jobs = try database.dueLetters(rules(options, limit: options.limit ?? 1_000_000, owner: "dry-run"))
        for job in jobs {
            do {
                let built = try message(for: job)
                if built.bytes.isEmpty || built.envelope.recipients.isEmpty { summary.failed += 1 } else { summary.checked += 1 }
            } catch {
                summary.failed += 1
            }
        }
        return summary
    }
}

/// The sessions of one run, each driven by its own thread.
final class Workers: @unchecked Sendable {
    private let sessions: [any MailSession]
    private let limiter: RateLimiter

    init(sessions: [any MailSession], limiter: RateLimiter) {
        self.sessions = sessions
        self.limiter = limiter
    }

    func close() { sessions.forEach { $0.close() } }

    /// Sends prepared messages, sessions in parallel; a `nil` reply means the message was not attempted
    /// because another session hit a reason to stop the run.
    /// - Parameters:
    ///   - targets: each message's target.
    ///   - closesTarget: whether the reply to message `index` means its target must receive nothing more.
    func deliver(_ messages: [Result<(bytes: [UInt8], envelope: Envelope), MailerError>], targets: [Int64],
                 closesTarget: @escaping @Sendable (TransportReply, Int) -> Bool) -> [TransportReply?] {
        let batch = Batch(count: messages.count)
        DispatchQueue.concurrentPerform(iterations: sessions.count) { worker in
            while let index = batch.take(skipping: targets) {
                let reply: TransportReply
                switch messages[index] {
                case .success(let message):
                    limiter.acquire()
                    reply = sessions[worker].deliver(message.bytes, envelope: message.envelope)
                case .failure(let error):
                    reply = TransportReply(.permanent, code: nil, text: "cannot build the message: \(error)")
                }
                batch.put(reply, at: index, closing: closesTarget(reply, index) ? targets[index] : nil)
            }
        }
        return batch.replies
    }

    /// The jobs of one batch handed out in order, and their replies; a stop reply ends the hand-out.
    private final class Batch: @unchecked Sendable {
        private let lock = NSLock()
        private let count: Int
        private var next = 0
        private var stopped = false
        private var closedTargets: Set<Int64> = []
        private(set) var replies: [TransportReply?]

        init(count: Int) {
            self.count = count
            replies = Array(repeating: nil, count: count)
        }

        /// The next job to send; jobs for closed targets are passed over and keep a `nil` reply.
        func take(skipping targets: [Int64]) -> Int? {
            lock.withLock {
                while !stopped && next < count {
                    defer { next += 1 }
                    if !closedTargets.contains(targets[next]) { return next }
                }
                return nil
            }
        }

        func put(_ reply: TransportReply, at index: Int, closing target: Int64?) {
            lock.withLock {
                replies[index] = reply
                if case .stopRun = reply.kind { stopped = true }
                if let target { closedTargets.insert(target) }
            }
        }
    }
}
