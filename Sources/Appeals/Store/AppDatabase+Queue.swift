import AsyncAlgorithms
import Foundation
import GRDB
import Synchronization

/// What `queue` did.
public struct QueueReport: Sendable, Equatable {
    public var queued = 0
    public var alreadyQueued = 0
    public var supporters = 0
    /// Supporters who write to the officials only: no embassy in their country.
    public var supportersWithoutEmbassy = 0
    /// Supporters whose consent is "no": nothing is written in their name.
    public var supportersWithoutConsent = 0

    public init() {}
}

extension AppDatabase {
    /// Renders and queues every missing letter of a campaign; running it again adds nothing.
    ///
    /// Supporters are read and written in batches of about `batchLetters` letters, each batch one transaction:
    /// memory stays flat whatever the number of supporters and targets, and a `queue` killed midway leaves
    /// whole letters only.
    /// - Throws: ``AppealsError/conflict(_:)`` when the campaign is not `active` or `paused`.
    public func queueLetters(
        campaign slug: String, messageIDs: MessageIDGenerator, now: Date = Date(), timeZone: TimeZone = .current,
        batchLetters: Int = 2500, waiting: @escaping @Sendable () -> Void = {}, progress: (@Sendable (QueueReport) -> Void)? = nil
    ) async throws(AppealsError) -> QueueReport {
        // Reading supporters and writing letters block in SQLite: on threads of their own, as is the log's copy.
        let reader = ThreadExecutor(name: "appeal-queue-read"), writer = ThreadExecutor(name: "appeal-queue-write"),
            copier = ThreadExecutor(name: "appeal-checkpoint")
        defer { [reader, writer, copier].forEach { $0.shutdown() } }
        let lock = try await ThreadExecutor.run(name: "appeal-queue-lock") { () throws(AppealsError) in
            try QueueLock(databasePath: self.path, waiting: waiting)
        }
        defer { withExtendedLifetime(lock) {} }
        let plan = try await ThreadExecutor.run(name: "appeal-queue-plan") { () throws(AppealsError) in
            try self.queuePlan(campaign: slug, now: now, timeZone: timeZone)
        }
        let batchSize = plan.batchSize(letters: batchLetters)
        let checkpointer = try walCheckpointer()
        let usual = try applyWriterSettings(.bulk)
        defer { _ = try? applyWriterSettings(usual) }
        let batches = AsyncChannel<QueueBatch>()
        // Render → write → copy: each batch is written while the next one renders, and copied from the log into
        // the file while the next one is written.
        enum Stage: Sendable {
            case rendered(Result<QueueReport, AppealsError>)
            case written(Result<(added: Int, attempted: Int), AppealsError>)
            case copied
        }
        let result: Result<QueueReport, AppealsError> = await withTaskGroup(of: Stage.self) { group in
            group.addTask(executorPreference: copier) {
                await checkpointer.run()
                return .copied
            }
            group.addTask(executorPreference: reader) {
                defer { batches.finish() }
                do throws(AppealsError) {
                    return .rendered(.success(try await self.renderBatches(plan, batchSize: batchSize, messageIDs: messageIDs, now: now, into: batches)))
                } catch {
                    return .rendered(.failure(error))
                }
            }
            group.addTask(executorPreference: writer) {
                defer { checkpointer.finish() }
                return .written(await self.writeBatches(batches, checkpointer: checkpointer, progress: progress))
            }
            var rendered: Result<QueueReport, AppealsError> = .success(QueueReport())
            var written: Result<(added: Int, attempted: Int), AppealsError> = .success((0, 0))
            for await stage in group {
                switch stage {
                case .rendered(let result): rendered = result
                case .written(let result):
                    written = result
                    // The writer failed: the renderer stops at its next batch.
                    if case .failure = result { group.cancelAll() }
                case .copied: break
                }
            }
            return rendered.flatMap { report in written.map { report.counted(added: $0.added, attempted: $0.attempted) } }
        }
        return try result.get()
    }

    /// Letters rendered for one batch of supporters, and how many of the batch's supporters were counted.
    struct QueueBatch: Sendable {
        let letters: [(Letter, RenderedLetter)]
        let report: QueueReport
    }

    private func queuePlan(campaign slug: String, now: Date, timeZone: TimeZone) throws(AppealsError) -> QueuePlan {
        let composer = try composer(for: slug, timeZone: timeZone)
        let targets = try read { db in try Target.filter(Column("campaign_id") == composer.campaign.id!).fetchAll(db) }
        return try QueuePlan(composer: composer, targets: targets, now: now)
    }

    /// Reads supporters a batch at a time (on the reader's thread), renders their missing letters on every
    /// core and passes each batch on, as fast as the writer takes them.
    /// - Returns: the counts of supporters and of letters already there.
    private func renderBatches(_ plan: QueuePlan, batchSize: Int, messageIDs: MessageIDGenerator, now: Date,
                               into batches: AsyncChannel<QueueBatch>) async throws(AppealsError) -> QueueReport {
        let campaign = plan.campaign
        var report = QueueReport()
        var lastId: Int64 = 0
        while !Task.isCancelled {
            let (supporters, existing) = try read { db in
                let supporters = try Supporter
                    .filter(Column("campaign_id") == campaign.id! && Column("id") > lastId && Column("erased_at") == nil)
                    .order(Column("id")).limit(batchSize).fetchAll(db)
                var existing = Set<[Int64]>()
                if let first = supporters.first?.id, let last = supporters.last?.id {
                    let rows = try Row.fetchCursor(db, sql: "SELECT supporter_id, target_id FROM letter WHERE supporter_id BETWEEN ? AND ?",
                                                   arguments: [first, last])
                    while let row = try rows.next() { existing.insert([row[0], row[1]]) }
                }
                return (supporters, existing)
            }
            guard let last = supporters.last else { break }
            lastId = last.id!
            let letters = await plan.letters(for: supporters, skipping: existing, messageIDs: messageIDs, now: now, counting: &report)
            await batches.send(QueueBatch(letters: letters, report: report))
        }
        return report
    }

    /// Writes each batch in one transaction (on the writer's thread) and asks for its copy into the file.
    /// - Returns: letters added and letters tried; the first failure stops the writing.
    private func writeBatches(_ batches: AsyncChannel<QueueBatch>, checkpointer: WALCheckpointer,
                              progress: (@Sendable (QueueReport) -> Void)?) async -> Result<(added: Int, attempted: Int), AppealsError> {
        var added = 0, attempted = 0, written = 0
        for await batch in batches {
            guard !batch.letters.isEmpty else {
                progress?(batch.report.counted(added: added, attempted: attempted))
                continue
            }
            written += 1
            do throws(AppealsError) {
                // Every other batch the copy is finished first, so the log restarts: it holds two batches at
                // most, one more than SQLite's own checkpoints let it (every 8 batches filled a 32 MB disk
                // that the queue fits on).
                if written % 2 == 0 { try storageFailure { try checkpointer.catchUp() } }
                added += try insert(batch.letters)
                attempted += batch.letters.count
                checkpointer.request()
            } catch {
                return .failure(error)
            }
            progress?(batch.report.counted(added: added, attempted: attempted))
        }
        return .success((added, attempted))
    }

    private func walCheckpointer() throws(AppealsError) -> WALCheckpointer {
        try storageFailure { try WALCheckpointer(path: path) }
    }

    /// How the writing connection commits: SQLite's checkpoint at commit, and its page cache.
    struct WriterSettings {
        var autocheckpointPages: Int
        var cacheSize: Int

        /// For `queue`: checkpoints run beside the writer (``WALCheckpointer``), and a 32 MB cache keeps the
        /// unique indexes' pages, which SQLite's default 2 MB read back from disk and wrote to the log again
        /// and again.
        static let bulk = WriterSettings(autocheckpointPages: 0, cacheSize: -32768)
    }

    /// Applies `settings` to the writing connection.
    /// - Returns: the settings it had, to put back.
    private func applyWriterSettings(_ settings: WriterSettings) throws(AppealsError) -> WriterSettings {
        try storageFailure {
            try writer.writeWithoutTransaction { db in
                let previous = WriterSettings(autocheckpointPages: try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint") ?? 1000,
                                              cacheSize: try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000)
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(settings.autocheckpointPages)")
                try db.execute(sql: "PRAGMA cache_size = \(settings.cacheSize)")
                return previous
            }
        }
    }

    /// Inserts rendered letters in one transaction; another `queue` may have raced us to some pairs: the
    /// unique constraint decides.
    /// - Returns: how many letters were added.
    private func insert(_ letters: [(Letter, RenderedLetter)]) throws(AppealsError) -> Int {
        try write { db in try Self.insertLetters(letters, in: db) }
    }

    /// Inserts letters and their texts within the caller's transaction, skipping pairs already there.
    /// - Returns: how many letters were added.
    static func insertLetters(_ letters: [(Letter, RenderedLetter)], in db: Database) throws -> Int {
        // Cached statements: Codable encoding per row would cost more than rendering the letter.
        let insertLetter = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO letter (campaign_id, supporter_id, target_id, language, message_id, status, attempts,
                queued_at, due_at, updated_at, possible_duplicate)
            VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?, ?, 0)
            """)
        let insertText = try db.cachedStatement(sql: "INSERT INTO letter_text (letter_id, subject, body) VALUES (?, ?, ?)")
        var dates = DatabaseDates()
        var added = 0
        for (letter, rendered) in letters {
            try insertLetter.execute(arguments: [letter.campaignId, letter.supporterId, letter.targetId, letter.language,
                                                 letter.messageId, dates.value(letter.queuedAt), dates.value(letter.dueAt), dates.value(letter.updatedAt)])
            guard db.changesCount == 1 else { continue }
            try insertText.execute(arguments: [db.lastInsertedRowID, rendered.subject, rendered.body])
            added += 1
        }
        return added
    }
}
