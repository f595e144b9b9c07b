import AsyncAlgorithms
import Appeals
import Foundation
import PostgresNIO

extension PostgresStore {
    /// Counts for `status`: supporters, letters by status, and each target's deliveries and bounces, as the
    /// SQLite store counts them.
    public func report(campaign slug: String) async throws(AppealsError) -> CampaignReport {
        try await transaction { connection in
            let ids = try await connection.rows("SELECT id FROM campaign WHERE slug = \(slug)", logger: logger)
            guard let id = try ids.first?.decode(Int64.self) else {
                throw AppealsError.notFound("no campaign \(slug) in \(location)")
            }
            let counts = try await connection.rows("""
                SELECT (SELECT count(*) FROM supporter WHERE campaign_id = \(id)),
                       (SELECT count(*) FROM supporter s WHERE s.campaign_id = \(id) AND NOT EXISTS (
                            SELECT 1 FROM target t WHERE t.campaign_id = s.campaign_id AND t.kind = 'embassy' AND t.country = s.country)),
                       (SELECT count(*) FROM letter WHERE campaign_id = \(id) AND possible_duplicate)
                """, logger: logger)
            let (supporters, withoutEmbassy, duplicates) = try counts[0].decode((Int, Int, Int).self)
            var letters = CampaignReport.LetterCounts()
            for (status, count) in try await connection.rows("""
                SELECT status, count(*) FROM letter WHERE campaign_id = \(id) GROUP BY status
                """, logger: logger).decode((String, Int).self) {
                letters.add(count, status: status)
            }
            var bounces: [Int64: CampaignReport.BounceCounts] = [:]
            var campaignBounces = CampaignReport.BounceCounts()
            for (target, bounceClass, count) in try await connection.rows("""
                SELECT b.target_id, b.class, count(*) FROM bounce b WHERE b.counted AND b.target_id IN (SELECT id FROM target WHERE campaign_id = \(id))
                GROUP BY b.target_id, b.class
                """, logger: logger).decode((Int64, String, Int).self) {
                bounces[target, default: CampaignReport.BounceCounts()].add(count, bounceClass: bounceClass)
            }
            for (bounceClass, count) in try await connection.rows("""
                SELECT class, count(*) FROM bounce WHERE counted AND letter_id IN (SELECT id FROM letter WHERE campaign_id = \(id)) GROUP BY class
                """, logger: logger).decode((String, Int).self) {
                campaignBounces.add(count, bounceClass: bounceClass)
            }
            var targets: [CampaignReport.TargetCounts] = []
            let rows = try await connection.rows("""
                SELECT t.name, t.email, t.kind,
                       count(*) FILTER (WHERE l.status = 'sent'), count(*) FILTER (WHERE l.status = 'failed'),
                       count(*) FILTER (WHERE l.status IN ('queued', 'sending', 'deferred')),
                       t.disabled, t.disabled_reason, t.removed_at IS NOT NULL,
                       count(*) FILTER (WHERE t.disabled AND l.status IN ('queued', 'deferred')),
                       count(*) FILTER (WHERE l.status = 'bounced'), t.id
                FROM target t LEFT JOIN letter l ON l.target_id = t.id
                WHERE t.campaign_id = \(id) GROUP BY t.id ORDER BY t.kind DESC, t.id
                """, logger: logger)
            for row in rows {
                let (name, email, kind, sent, failed, pending, disabled, reason, removed, held, bounced, target)
                    = try row.decode((String, String, String, Int, Int, Int, Bool, String?, Bool, Int, Int, Int64).self)
                targets.append(CampaignReport.TargetCounts(name: name, email: email, kind: kind, sent: sent, failed: failed, pending: pending,
                                                           disabled: disabled, disabledReason: reason, removed: removed, held: held,
                                                           bounced: bounced, bounces: bounces[target] ?? CampaignReport.BounceCounts()))
            }
            return CampaignReport(campaign: slug, supporters: supporters, supportersWithoutEmbassy: withoutEmbassy, letters: letters,
                                  possibleDuplicates: duplicates, targets: targets, bounces: campaignBounces)
        }
    }
}

extension PostgresStore {
    /// Streams one CSV line per letter of a campaign (header first) to `write`, as the SQLite store does, a page
    /// of rows at a time from one consistent view.
    public func exportLetters(campaign slug: String, status: LetterStatus? = nil, spreadsheetSafe: Bool = false,
                              write: (String) throws -> Void) async throws(AppealsError) {
        let status = status?.rawValue
        // The rows are read in a transaction of their own task and handed over a page at a time, so that `write`
        // runs here, in the caller's task.
        let pages = AsyncThrowingChannel<[String], any Error>()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await transaction { connection in try await exportPages(slug, status: status, spreadsheetSafe: spreadsheetSafe,
                                                                                    to: pages, on: connection) }
                        pages.finish()
                    } catch {
                        pages.fail(error)
                    }
                }
                defer { group.cancelAll() }
                for try await page in pages {
                    for line in page { try ExportWriteFailure.writing { try write(line) } }
                }
            }
        } catch let failure as ExportWriteFailure {
            throw failure.reported
        } catch {
            throw Self.appealsError(error, location)
        }
    }

    private func exportPages(_ slug: String, status: String?, spreadsheetSafe: Bool, to pages: AsyncThrowingChannel<[String], any Error>,
                             on connection: PostgresConnection) async throws {
        // One snapshot for the whole export, as the file's single read transaction gives.
        try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
        var page = [CSVWriter.line(AppDatabase.exportColumns)]
        let dates = ISO8601DateFormatter()
        let query: PostgresQuery = """
            SELECT s.name, s.email, t.name, t.email, t.kind, l.status, l.attempts, l.last_code, l.last_reply, l.sent_at, l.message_id,
                   l.possible_duplicate
            FROM letter l JOIN supporter s ON s.id = l.supporter_id JOIN target t ON t.id = l.target_id
            WHERE l.campaign_id = \(campaign.id!) AND (\(status)::text IS NULL OR l.status = \(status)) ORDER BY l.id
            """
        try await connection.pages(query, size: 1000, logger: logger) { rows in
            for row in rows {
                let (name, email, targetName, targetEmail, kind, letterStatus, attempts, code, reply, sentAt, messageId, duplicate)
                    = try row.decode((String?, String?, String, String, String, String, Int, Int?, String?, Date?, String, Bool).self)
                let letter = ExportedLetter(supporterName: name, supporterEmail: email, targetName: targetName, targetEmail: targetEmail,
                                            targetKind: kind, status: letterStatus, attempts: attempts, lastCode: code, lastReply: reply,
                                            sentAt: sentAt, messageId: messageId, possibleDuplicate: duplicate)
                page.append(letter.csvLine(spreadsheetSafe: spreadsheetSafe, dates: dates))
            }
            await pages.send(page)
            try Task.checkCancellation()
            page.removeAll(keepingCapacity: true)
        }
        await pages.send(page)
    }
}
