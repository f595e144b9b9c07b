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
            let held = try await connection.query("""
                SELECT count(*) FROM letter WHERE target_id = \(target.id!) AND status IN ('queued', 'deferred')
                """, logger: logger).collect().first?.decode(Int.self) ?? 0
            return (target, held)
        }
    }

    static func campaign(_ slug: String, on connection: PostgresConnection, logger: Logger, location: PostgresLocation) async throws -> Campaign {
        let found = try await PostgresDeliveryStore.records(Campaign.self, """
            SELECT \(unescaped: PostgresDeliveryStore.columns("campaign")) FROM campaign WHERE slug = \(slug)
            """, on: connection, logger: logger)
        guard let campaign = found.first else { throw AppealsError.notFound("no campaign \(slug) in \(location)") }
        return campaign
    }
}
