import GRDB

extension AppDatabase {
    /// Counts for `status`: supporters, letters by status, and each target's deliveries.
    public func report(campaign slug: String) throws(AppealsError) -> CampaignReport {
        try read { db in
            let campaign = try Self.campaign(slug, in: db)
            let id = campaign.id!
            let supporters = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM supporter WHERE campaign_id = ?", arguments: [id]) ?? 0
            let withoutEmbassy = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM supporter s WHERE s.campaign_id = ? AND NOT EXISTS (
                    SELECT 1 FROM target t WHERE t.campaign_id = s.campaign_id AND t.kind = 'embassy' AND t.country = s.country)
                """, arguments: [id]) ?? 0
            var letters = CampaignReport.LetterCounts()
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM letter WHERE campaign_id = ? GROUP BY status", arguments: [id]) {
                letters.add(row[1], status: row[0])
            }
            let duplicates = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM letter WHERE campaign_id = ? AND possible_duplicate = 1", arguments: [id]) ?? 0
            let targets = try Row.fetchAll(db, sql: """
                SELECT t.name, t.email, t.kind,
                       COUNT(CASE WHEN l.status = 'sent' THEN 1 END),
                       COUNT(CASE WHEN l.status = 'failed' THEN 1 END),
                       COUNT(CASE WHEN l.status IN ('queued', 'sending', 'deferred') THEN 1 END),
                       t.disabled, t.disabled_reason, t.removed_at IS NOT NULL,
                       COUNT(CASE WHEN t.disabled = 1 AND l.status IN ('queued', 'deferred') THEN 1 END),
                       COUNT(CASE WHEN l.status = 'bounced' THEN 1 END), t.id
                FROM target t LEFT JOIN letter l ON l.target_id = t.id
                WHERE t.campaign_id = ? GROUP BY t.id ORDER BY t.kind DESC, t.id
                """, arguments: [id]).map { row in
                CampaignReport.TargetCounts(name: row[0], email: row[1], kind: row[2], sent: row[3], failed: row[4], pending: row[5],
                                            disabled: row[6], disabledReason: row[7], removed: row[8], held: row[9], bounced: row[10],
                                            bounces: try Self.bounceCounts(db, where: "target_id = ?", [row[11] as Int64]))
            }
            return CampaignReport(campaign: slug, supporters: supporters, supportersWithoutEmbassy: withoutEmbassy,
                                  letters: letters, possibleDuplicates: duplicates, targets: targets,
                                  bounces: try Self.bounceCounts(db, where: "letter_id IN (SELECT id FROM letter WHERE campaign_id = ?)", [id]))
        }
    }
}

extension AppDatabase {
    /// Counted bounce reports by class, for the reports matching `condition` on the `bounce` table.
    static func bounceCounts(_ db: Database, where condition: String, _ arguments: [any DatabaseValueConvertible]) throws -> CampaignReport.BounceCounts {
        var counts = CampaignReport.BounceCounts()
        for row in try Row.fetchAll(db, sql: "SELECT class, COUNT(*) FROM bounce WHERE counted = 1 AND \(condition) GROUP BY class",
                                    arguments: StatementArguments(arguments)) {
            counts.add(row[1], bounceClass: row[0])
        }
        return counts
    }
}
