import Foundation
import GRDB

/// The web server's store on the SQLite file: reads on a few threads of their own (SQLite blocks), the writes
/// of submissions and confirmations committed together (``GroupCommit``).
public final class SQLiteWebStore: WebStore {
    public let database: AppDatabase
    private let threads = DatabaseThreads(count: 4)
    private let commits: GroupCommit

    public init(database: AppDatabase) {
        self.database = database
        commits = GroupCommit(database: database)
    }

    /// Stops the threads; call once the server stopped.
    public func shutdown() {
        threads.shutdown()
    }

    private func run<T: Sendable>(_ body: @Sendable () throws(AppealsError) -> T) async throws(AppealsError) -> T {
        try await threads.run(body)
    }

    public func campaigns() async throws(AppealsError) -> [Campaign] {
        try await run { () throws(AppealsError) in try database.campaigns() }
    }

    public func campaign(_ slug: String) async throws(AppealsError) -> Campaign {
        try await run { () throws(AppealsError) in try database.campaign(slug) }
    }

    public func targets(ofCampaign slug: String) async throws(AppealsError) -> [Target] {
        try await run { () throws(AppealsError) in try database.targets(ofCampaign: slug) }
    }

    public func composer(for slug: String, cache: ComposerCache) async throws(AppealsError) -> LetterComposer {
        try await run { () throws(AppealsError) in try database.composer(for: slug, cache: cache) }
    }

    public func report(campaign slug: String) async throws(AppealsError) -> CampaignReport {
        try await run { () throws(AppealsError) in try database.report(campaign: slug) }
    }

    public func activity(campaign slug: String, now: Date, hours: Int) async throws(AppealsError) -> CampaignActivity {
        try await run { () throws(AppealsError) in try database.activity(campaign: slug, now: now, hours: hours) }
    }

    public func setStatus(_ status: CampaignStatus, ofCampaign slug: String) async throws(AppealsError) -> Campaign {
        try await run { () throws(AppealsError) in try database.setStatus(status, ofCampaign: slug) }
    }

    public func exportText(campaign slug: String, spreadsheetSafe: Bool) async throws(AppealsError) -> String {
        try await run { () throws(AppealsError) in
            var text = ""
            try database.exportLetters(campaign: slug, spreadsheetSafe: spreadsheetSafe) { text += $0 }
            return text
        }
    }

    public func storeSubmission(_ submission: Submission, email: OutboxMessage, perEmailPerHour: Int, now: Date) async throws(AppealsError) -> Bool {
        try await commits.write { db in
            try AppDatabase.storeSubmission(submission, email: email, perEmailPerHour: perEmailPerHour, now: now, in: db)
        }
    }

    public func submission(tokenHash: Data) async throws(AppealsError) -> (Submission, Campaign)? {
        try await run { () throws(AppealsError) in try database.submission(tokenHash: tokenHash) }
    }

    public func confirmationPlan(tokenHash: Data, now: Date, composers: ComposerCache) async throws(AppealsError) -> (Submission, Campaign, ConfirmationPlan)? {
        try await run { () throws(AppealsError) in try database.confirmationPlan(tokenHash: tokenHash, now: now, composers: composers) }
    }

    public func confirmSubmission(tokenHash: Data, composer: LetterComposer, messageIDs: MessageIDGenerator, now: Date) async throws(AppealsError) -> Confirmation {
        try await commits.write { db in
            try AppDatabase.confirmSubmission(tokenHash: tokenHash, composer: composer, messageIDs: messageIDs, now: now, in: db)
        }
    }

    public func withdrawSubmission(tokenHash: Data) async throws(AppealsError) -> Bool {
        try await run { () throws(AppealsError) in try database.withdrawSubmission(tokenHash: tokenHash) }
    }

    public func supporterLetters(tokenHash: Data) async throws(AppealsError) -> SupporterLetters? {
        try await run { () throws(AppealsError) in try database.supporterLetters(tokenHash: tokenHash) }
    }

    public func purgeExpiredSubmissions(now: Date) async throws(AppealsError) -> Int {
        try await run { () throws(AppealsError) in try database.purgeExpiredSubmissions(now: now) }
    }

    public func webKey() async throws(AppealsError) -> Data {
        try await run { () throws(AppealsError) in try database.secretKey(named: "web") }
    }

    public func takeDueOutbox(now: Date, limit: Int) async throws(AppealsError) -> [OutboxMessage] {
        try await run { () throws(AppealsError) in try database.takeDueOutbox(now: now, limit: limit) }
    }

    public func removeFromOutbox(_ ids: [Int64]) async throws(AppealsError) {
        try await run { () throws(AppealsError) in try database.removeFromOutbox(ids) }
    }

    public func deferOutbox(_ id: Int64, until due: Date) async throws(AppealsError) {
        try await run { () throws(AppealsError) in try database.deferOutbox(id, until: due) }
    }
}
