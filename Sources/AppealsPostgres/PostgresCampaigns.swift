import Appeals
import Foundation
import PostgresNIO

/// The organizer's controls over a campaign that is being sent from PostgreSQL: the senders see each change at
/// their next turn, as on the SQLite file.
extension PostgresStore {
    /// Opens, pauses or closes a campaign.
    public func setStatus(_ status: CampaignStatus, ofCampaign slug: String) async throws(AppealsError) -> Campaign {
        try await transaction { connection in
            var campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            campaign.status = status
            try await connection.query("UPDATE campaign SET status = \(status.rawValue) WHERE id = \(campaign.id!)", logger: logger)
            return campaign
        }
    }

    /// Enables or disables a target (``Target/setEnabled(_:campaign:)``).
    /// - Returns: the target, and how many letters it holds back (disabled) or lets go (enabled).
    public func setTargetEnabled(_ enabled: Bool, campaign slug: String, email: String) async throws(AppealsError) -> (Target, held: Int) {
        try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            let found = try await PostgresDeliveryStore.records(Target.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target
                WHERE campaign_id = \(campaign.id!) AND email_key = \(EmailAddress.key(email)) FOR UPDATE
                """, on: connection, logger: logger)
            guard var target = found.first else { throw Target.notFound(email, campaign: slug) }
            try target.setEnabled(enabled, campaign: slug)
            try await connection.query("""
                UPDATE target SET disabled = \(target.disabled), disabled_reason = \(target.disabledReason) WHERE id = \(target.id!)
                """, logger: logger)
            let held = try await connection.rows("""
                SELECT count(*) FROM letter WHERE target_id = \(target.id!) AND status IN ('queued', 'deferred')
                """, logger: logger).first?.decode(Int.self) ?? 0
            return (target, held)
        }
    }

    static func campaign(_ slug: String, on connection: PostgresConnection, logger: Logger, location: PostgresLocation) async throws -> Campaign {
        let found = try await PostgresDeliveryStore.records(Campaign.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("campaign")) FROM campaign WHERE slug = \(slug)
            """, on: connection, logger: logger)
        guard let campaign = found.first else { throw AppealsError.notFound("no campaign \(slug); `appeal-cli campaign list` shows the campaigns") }
        return campaign
    }
}

extension PostgresStore {
    public func campaigns() async throws(AppealsError) -> [Campaign] {
        try await transaction { connection in
            try await PostgresDeliveryStore.records(Campaign.self, "SELECT \(unescaped: PostgresDeliveryStore.columns("campaign")) FROM campaign ORDER BY slug",
                                                    on: connection, logger: logger)
        }
    }

    /// A campaign's targets, officials first, in the order they were added.
    public func targets(ofCampaign slug: String) async throws(AppealsError) -> [Target] {
        try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            return try await PostgresDeliveryStore.records(Target.self, """
                SELECT \(unescaped: PostgresDeliveryStore.columns("target")) FROM target WHERE campaign_id = \(campaign.id!) ORDER BY kind DESC, id
                """, on: connection, logger: logger)
        }
    }

    /// A campaign's letters (only those in `status`, if given), in the order they were queued, at most `limit`.
    public func letters(campaign slug: String, status: LetterStatus?, limit: Int) async throws(AppealsError) -> [LetterListing] {
        let status = status?.rawValue
        return try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            var letters: [LetterListing] = []
            for (name, email, targetName, targetEmail, letterStatus, attempts, code, reply, updatedAt) in try await connection.rows("""
                SELECT s.name, s.email, t.name, t.email, l.status, l.attempts, l.last_code, l.last_reply, l.updated_at
                FROM letter l JOIN supporter s ON s.id = l.supporter_id JOIN target t ON t.id = l.target_id
                WHERE l.campaign_id = \(campaign.id!) AND (\(status)::text IS NULL OR l.status = \(status)) ORDER BY l.id LIMIT \(limit)
                """, logger: logger).decode((String, String?, String, String, String, Int, Int?, String?, Date).self) {
                guard let letterStatus = LetterStatus(rawValue: letterStatus) else { continue }
                letters.append(LetterListing(supporterName: name, supporterEmail: email, targetName: targetName, targetEmail: targetEmail,
                                             status: letterStatus, attempts: attempts, lastCode: code, lastReply: reply, updatedAt: updatedAt))
            }
            return letters
        }
    }

    /// Makes failed, deferred or bounced letters due again now (`retry`), as the SQLite store does: an attempt
    /// count starts again for failed and bounced ones; those of a disabled target stay as they are, counted apart.
    public func retry(campaign slug: String, statuses: [LetterStatus], now: Date) async throws(AppealsError) -> RetryReport {
        let statuses = statuses.map(\.rawValue)
        return try await transaction { connection in
            let campaign = try await Self.campaign(slug, on: connection, logger: logger, location: location)
            let held = try await connection.rows("""
                SELECT count(*) FROM letter WHERE campaign_id = \(campaign.id!) AND status = ANY(\(statuses))
                  AND target_id IN (SELECT id FROM target WHERE disabled)
                """, logger: logger).first?.decode(Int.self) ?? 0
            let due = try await connection.rows("""
                UPDATE letter SET status = 'queued', due_at = \(now), updated_at = \(now), bounced_at = NULL,
                    attempts = CASE WHEN status IN ('failed', 'bounced') THEN 0 ELSE attempts END
                WHERE campaign_id = \(campaign.id!) AND status = ANY(\(statuses))
                  AND target_id NOT IN (SELECT id FROM target WHERE disabled)
                RETURNING id
                """, logger: logger).count
            return RetryReport(due: due, held: held)
        }
    }
}
