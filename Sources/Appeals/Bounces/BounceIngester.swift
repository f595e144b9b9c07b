import Foundation

/// A store that takes bounces: the SQLite file, or PostgreSQL. Its calls block (on a thread of the caller's own).
public protocol BounceStore: Sendable {
    /// Stores one message and acts on it, in one transaction (see ``BounceLedgerIngest``).
    /// - Throws: ``AppealsError/storage(_:)`` when the database cannot be written (a temporary failure for a
    ///   mail system piping to us).
    func ingestBounce(_ message: InboundMessage, policy: BouncePolicy, now: Date) throws(AppealsError) -> BounceIngestResult
    func secretKey(named name: String) throws(AppealsError) -> Data
}

extension AppDatabase: BounceStore {}

/// Feeds received messages to the store: from a Maildir, an mbox file or one message (standard input).
/// A message that cannot be read is recorded with its problem and the run goes on; a database that cannot be
/// written stops the run, leaving what was not stored for the next one.
public struct BounceIngester: Sendable {
    /// What one run did.
    public struct Summary: Sendable {
        public var read = 0
        public var alreadyIngested = 0
        public var problems = 0
        public var byClass: [BounceClass: Int] = [:]
        /// Messages with a trusted failure report: they bounced letters or counted against targets.
        public var actedOn = 0
        /// Entries of a Maildir that were not read (folders, links, files that cannot be opened), left where
        /// they are, each with the reason.
        public var skipped: [(name: String, reason: String)] = []

        public init() {}
    }

    let database: any BounceStore
    let policy: BouncePolicy
    let now: @Sendable () -> Date

    public init(database: any BounceStore, config: AppConfig, now: @escaping @Sendable () -> Date = { Date() }) throws(AppealsError) {
        self.database = database
        self.policy = BouncePolicy(config: config, verpKey: try database.secretKey(named: "verp"))
        self.now = now
    }

    /// Stores one message and acts on it.
    public func ingest(_ message: InboundMessage) throws(AppealsError) -> BounceIngestResult {
        try database.ingestBounce(message, policy: policy, now: now())
    }

    /// Every waiting message of `maildir`, each flagged seen once stored.
    /// - Parameter each: called with each message's name and result, as it is stored.
    /// - Throws: the database's failure; the message being stored then stays waiting.
    public func ingest(maildir: Maildir, each: (String, BounceIngestResult) -> Void) throws(AppealsError) -> Summary {
        var summary = Summary()
        for waiting in maildir.waiting() {
            let claim: Maildir.Claim
            switch maildir.claim(waiting) {
            case .claimed(let claimed): claim = claimed
            case .taken: continue
            case .unreadable(let reason):
                summary.skipped.append((waiting.name, reason))
                continue
            }
            let (bytes, size) = try maildir.read(claim, limit: InboundMessage.maxBytes)
            let result = try ingest(InboundMessage(bytes: bytes, size: size, source: "\(maildir.path)/cur/\(claim.name)"))
            maildir.done(claim)
            summary.add(result)
            each(claim.name, result)
        }
        return summary
    }

    /// Every message of the mbox file at `path`; a rerun finds them all already ingested.
    public func ingest(mbox path: String, each: (String, BounceIngestResult) -> Void) throws(AppealsError) -> Summary {
        var summary = Summary()
        let mbox = try Mbox(path: path)
        while let message = try mbox.next() {
            let source = "\(path) #\(mbox.count)"
            let result = try ingest(InboundMessage(bytes: message.bytes, size: message.size, source: source))
            summary.add(result)
            each(source, result)
        }
        return summary
    }
}

extension BounceIngester.Summary {
    public mutating func add(_ result: BounceIngestResult) {
        read += 1
        if !result.isNew {
            alreadyIngested += 1
        } else {
            if result.problem != nil { problems += 1 }
            if result.actedOn { actedOn += 1 }
            byClass[result.bounceClass, default: 0] += 1
        }
    }
}
