import Foundation

/// What sending needs from a store: claims, outcomes, give-backs and recovery, as persistence only. The
/// rules they apply are the store-free ``ClaimPolicy`` and ``DeliveryStep``, so that a second store (the
/// PostgreSQL one to come) implements this beside ``AppDatabase`` without copying them.
///
/// Calls block: a sender runs them on a thread of its own.
public protocol DeliveryStore: Sendable {
    /// Starts a send run: proof to other runs that it is alive for as long as it runs, and its journal.
    func beginSendRun() throws(AppealsError) -> any SendRunRecord

    /// Settles the letters of runs that died (see ``AppDatabase/recoverAbandoned(now:policy:isAlive:)``).
    /// - Returns: how many letters were marked as possible duplicates.
    func recoverDeadRuns(now: Date, policy: RetryPolicy) throws(AppealsError) -> Int

    /// How many letters are due by status and time, before sending hours and hourly limits.
    func dueCount(campaign slug: String?, now: Date) throws(AppealsError) -> Int

    /// Takes due letters for one run, atomically: two runs never claim the same letter.
    func claimDueLetters(_ rules: ClaimRules) throws(AppealsError) -> [DeliveryJob]

    /// The letters a claim would take, without taking them, a page at a time.
    func dueLetters(_ rules: ClaimRules, after: DueKey?) throws(AppealsError) -> (jobs: [DeliveryJob], next: DueKey?)

    /// Records attempts and moves each letter on (``DeliveryStep``), in one transaction.
    @discardableResult
    func record(_ outcomes: [DeliveryOutcome], owner: String, policy: RetryPolicy, jitter: () -> Double) throws(AppealsError) -> [Int64: LetterStatus]

    /// Gives back letters a run claimed and never handed over: they stay due.
    func release(_ letterIds: [Int64], owner: String, now: Date) throws(AppealsError)

    /// The letters `owner` holds that it may still send.
    func sendableClaims(owner: String) throws(AppealsError) -> Set<Int64>

    /// The unsent letters, by the reason they wait.
    func waitingLetters(campaign slug: String?, now: Date) throws(AppealsError) -> WaitingLetters

    /// A key the database made and never shows (`verp`: the return paths' MACs).
    func secretKey(named name: String) throws(AppealsError) -> Data

    /// One letter per enabled target of a campaign, as `[TEST]` samples.
    func sampleLetters(campaign slug: String) throws(AppealsError) -> (samples: [DeliveryJob], withoutLetter: [Target])

    /// Every campaign, by slug.
    func campaigns() throws(AppealsError) -> [Campaign]

    /// - Throws: ``AppealsError/notFound(_:)`` naming the slug.
    func campaign(_ slug: String) throws(AppealsError) -> Campaign

    /// Reserves the next slot of a send rate that every run on this store shares, `interval` seconds apart.
    /// - Returns: how long to wait for it; `nil` when the store does not share one (each run paces itself).
    func reserveSendSlot(interval: TimeInterval) throws(AppealsError) -> TimeInterval?
}

/// A send run as its store knows it: its id (written on the letters it claims), its journal, and its end.
public protocol SendRunRecord: Sendable {
    var id: String { get }
    /// Where the run notes each letter before handing it over, and each reply as it comes.
    var journal: any SendJournal { get }
    /// Ends the run. `settled`: everything it did is in the store, so its journal can go; otherwise the
    /// journal stays for the next run's recovery.
    func end(settled: Bool)
}

/// What a send run notes as it goes, so that whoever settles its letters after it died knows which went out.
/// ``DeliveryJournal`` on a SQLite file's host; a table on PostgreSQL, where another host may settle them.
public protocol SendJournal: Sendable {
    /// Notes that the letter is about to be handed to the server.
    /// - Throws: ``AppealsError`` when the note cannot be made: the letter must then not be handed over.
    func started(_ letterId: Int64) throws(AppealsError)
    /// Notes the server's reply to a letter (or that it was not handed over after all: `outcome == nil`);
    /// a note that cannot be made only leaves the letter a possible duplicate if the run dies.
    func replied(_ letterId: Int64, _ outcome: DeliveryOutcome?)

    /// Notes the previous letter's reply, if given, and the start of `letterId`, at once: a session makes one
    /// note per letter. Until then the reply is in the run's memory, and its commit follows within a tenth of a
    /// second: a session has either a letter on the wire or a reply not yet noted, never both.
    func started(_ letterId: Int64, after reply: (letterId: Int64, outcome: DeliveryOutcome?)?) throws(AppealsError)
}

extension SendJournal {
    public func started(_ letterId: Int64, after reply: (letterId: Int64, outcome: DeliveryOutcome?)?) throws(AppealsError) {
        if let reply { replied(reply.letterId, reply.outcome) }
        try started(letterId)
    }
}

/// A send run on a SQLite file: a `flock` lease and a journal file beside the database.
struct FileSendRun: SendRunRecord {
    let lease: SendRunLease
    let file: DeliveryJournal
    var id: String { lease.id }
    var journal: any SendJournal { file }

    func end(settled: Bool) {
        // The journal goes first: a run found dead with its journal still there is settled from it.
        if settled { file.remove() }
        lease.end()
    }
}

extension AppDatabase: DeliveryStore {
    public func beginSendRun() throws(AppealsError) -> any SendRunRecord {
        let lease = try SendRunLease(databasePath: path)
        do throws(AppealsError) {
            return FileSendRun(lease: lease, file: try DeliveryJournal(databasePath: path, runId: lease.id))
        } catch {
            lease.end()
            throw error
        }
    }

    public func recoverDeadRuns(now: Date, policy: RetryPolicy) throws(AppealsError) -> Int {
        let path = path
        return try recoverAbandoned(now: now, policy: policy) { SendRunLease.isAlive($0, databasePath: path) }
    }
}

extension DeliveryStore {
    /// The campaign `send --campaign` names, if its letters can be sent now or later: not a draft, not closed.
    /// - Throws: ``AppealsError/notFound(_:)``, or ``AppealsError/conflict(_:)`` saying why nothing will be sent.
    public func campaignToSend(_ slug: String) throws(AppealsError) -> Campaign {
        let campaign = try campaign(slug)
        switch campaign.status {
        case .active, .paused: return campaign
        case .draft: throw .conflict("campaign \(slug) is a draft: its letters are not sent until it is opened (appeal-cli campaign open \(slug))")
        case .closed: throw .conflict("campaign \(slug) is closed: its letters are never sent (appeal-cli campaign open \(slug) to reopen it)")
        }
    }

    /// Active campaigns (only `slug`, if given) whose deadline has passed at `now`: sending warns of them.
    public func activeCampaignsPastDeadline(slug: String?, now: Date) throws(AppealsError) -> [Campaign] {
        try campaigns().filter { ($0.slug == slug || slug == nil) && $0.status == .active && $0.deadlinePassed(at: now) }
    }

    /// Runs on a SQLite file pace themselves.
    public func reserveSendSlot(interval: TimeInterval) throws(AppealsError) -> TimeInterval? { nil }

    /// Records attempts with a random back-off jitter.
    @discardableResult
    public func record(_ outcomes: [DeliveryOutcome], owner: String, policy: RetryPolicy) throws(AppealsError) -> [Int64: LetterStatus] {
        try record(outcomes, owner: owner, policy: policy, jitter: { Double.random(in: 0..<1) })
    }
}
