import Foundation
import GRDB

/// What `queue` did.
public struct QueueReport: Sendable, Equatable {
    public var queued = 0
    public var alreadyQueued = 0
    public var supporters = 0
    /// Supporters who write to the officials only: no embassy in their country.
    public var supportersWithoutEmbassy = 0
    /// Supporters whose consent is "no": nothing is written in their name.
    public var supportersWithoutConsent = 0
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
        batchLetters: Int = 2500, waiting: () -> Void = {}, progress: ((QueueReport) -> Void)? = nil
    ) throws(AppealsError) -> QueueReport {
        let lock = try QueueLock(databasePath: path, waiting: waiting)
        defer { withExtendedLifetime(lock) {} }
        let composer = try composer(for: slug, timeZone: timeZone)
        let campaign = composer.campaign
        guard campaign.status.acceptsLetters else {
            throw .conflict("campaign \(slug) is \(campaign.status.rawValue): letters are queued only for active or paused campaigns (appeal-cli campaign open \(slug))")
        }
        if campaign.deadlinePassed(at: now) {
            throw .conflict("campaign \(slug)'s deadline \(campaign.deadline!) has passed: no new letters are queued (letters already queued are still sent; move \"deadline\" in campaign.json to queue more)")
        }
        let targets = try read { db in try Target.filter(Column("campaign_id") == campaign.id!).fetchAll(db) }
        let targeting = Targeting(targets)
        // A supporter writes to every official and one embassy at most.
        let batchSize = max(1, batchLetters / (targets.count(where: { $0.kind == .official }) + 1))
        var report = QueueReport()
        var lastId: Int64 = 0
        // Each batch is written while the next one renders, and copied from the log into the file while
        // the next one is written.
        let pendingWrite = PendingWrite()
        let checkpointer = try walCheckpointer()
        let usual = try applyWriterSettings(.bulk)
        defer {
            _ = try? pendingWrite.wait(into: report)
            checkpointer.finish()
            _ = try? applyWriterSettings(usual)
        }
        var batches = 0
        while true {
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
            var work: [(supporter: Supporter, target: Target)] = []
            for supporter in supporters {
                report.supporters += 1
                if targeting.embassy(for: supporter) == nil { report.supportersWithoutEmbassy += 1 }
                if supporter.consent == false {
                    report.supportersWithoutConsent += 1
                    continue
                }
                for target in targeting.targets(for: supporter) {
                    if existing.contains([supporter.id!, target.id!]) {
                        report.alreadyQueued += 1
                    } else {
                        work.append((supporter, target))
                    }
                }
            }
            let rendered = Self.render(work, with: composer, now: now)
            let letters = zip(work, rendered).map { item, rendered in
                (Letter(id: nil, campaignId: campaign.id!, supporterId: item.supporter.id!, targetId: item.target.id!,
                        language: rendered.language, messageId: messageIDs.next(), status: .queued, attempts: 0, lastCode: nil,
                        lastReply: nil, queuedAt: now, dueAt: now, claimedBy: nil, claimedAt: nil, sentAt: nil, updatedAt: now,
                        possibleDuplicate: false), rendered)
            }
            // The previous batch's write must be done (and have succeeded) before the next begins.
            report = try pendingWrite.wait(into: report)
            if !letters.isEmpty {
                batches += 1
                // Every other batch the copy is finished first, so the log restarts: it holds two batches at
                // most, one more than SQLite's own checkpoints let it (every 8 batches filled a 32 MB disk
                // that the queue fits on).
                let catchUp = batches % 2 == 0
                pendingWrite.start({ () throws(AppealsError) in
                    if catchUp { try self.storageFailure { try checkpointer.catchUp() } }
                    let added = try self.insert(letters)
                    checkpointer.request()
                    return added
                }, attempted: letters.count)
            }
            progress?(report)
        }
        return try pendingWrite.wait(into: report)
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
        try write { db in
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

    /// Renders letters on every core: letters are independent.
    static func render(_ work: [(supporter: Supporter, target: Target)], with composer: LetterComposer, now: Date) -> [RenderedLetter] {
        work.concurrentMap(minimumPerCore: 32) { composer.compose(supporter: $0.supporter, target: $0.target, now: now) }
    }
}

/// One batch's write running in the background while the next batch renders.
private final class PendingWrite: @unchecked Sendable {
    private let group = DispatchGroup()
    private var outcome: Result<(added: Int, attempted: Int), AppealsError>?

    func start(_ write: @escaping @Sendable () throws(AppealsError) -> Int, attempted: Int) {
        group.enter()
        DispatchQueue.global().async {
            do throws(AppealsError) {
                self.outcome = .success((try write(), attempted))
            } catch {
                self.outcome = .failure(error)
            }
            self.group.leave()
        }
    }

    /// Waits for the write in flight, if any, and counts it into `report`.
    func wait(into report: QueueReport) throws(AppealsError) -> QueueReport {
        group.wait()
        defer { outcome = nil }
        var report = report
        switch outcome {
        case .success(let counts):
            report.queued += counts.added
            report.alreadyQueued += counts.attempted - counts.added
        case .failure(let error):
            throw error
        case nil:
            break
        }
        return report
    }
}
