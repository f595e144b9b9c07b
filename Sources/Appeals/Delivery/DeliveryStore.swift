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
}

/// A send run as its store knows it: its id (written on the letters it claims), its journal, and its end.
public protocol SendRunRecord: Sendable {
    var id: String { get }
    /// Where the run notes each letter before handing it over, and each reply as it comes.
    var journal: DeliveryJournal { get }
    /// Ends the run. `settled`: everything it did is in the store, so its journal can go; otherwise the
    /// journal stays for the next run's recovery.
    func end(settled: Bool)
}

/// A send run on a SQLite file: a `flock` lease and a journal file beside the database.
struct FileSendRun: SendRunRecord {
    let lease: SendRunLease
    let journal: DeliveryJournal
    var id: String { lease.id }

    func end(settled: Bool) {
        // The journal goes first: a run found dead with its journal still there is settled from it.
        if settled { journal.remove() }
        lease.end()
    }
}

extension AppDatabase: DeliveryStore {
    public func beginSendRun() throws(AppealsError) -> any SendRunRecord {
        let lease = try SendRunLease(databasePath: path)
        do throws(AppealsError) {
            return FileSendRun(lease: lease, journal: try DeliveryJournal(databasePath: path, runId: lease.id))
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
    /// Records attempts with a random back-off jitter.
    @discardableResult
    public func record(_ outcomes: [DeliveryOutcome], owner: String, policy: RetryPolicy) throws(AppealsError) -> [Int64: LetterStatus] {
        try record(outcomes, owner: owner, policy: policy, jitter: { Double.random(in: 0..<1) })
    }
}
