import Foundation
import GRDB

/// Why unsent letters are not going out now, counted after a `send`.
public struct WaitingLetters: Sendable, Equatable {
    /// Due, but outside their target's sending hours or over its hourly limit.
    public var outsideHoursOrLimit = 0
    /// Deferred after a failed attempt, due again after back-off.
    public var backingOff = 0
    /// When the first of them is due again.
    public var nextRetry: Date?
    /// Kept back because their target is disabled.
    public var heldByDisabledTargets = 0
    /// In campaigns that are paused.
    public var inPausedCampaigns = 0
    /// Held (`sending`) by other send runs: running, or stopped and waiting for their lease to run out.
    public var heldByOtherRuns = 0

    public init() {}

    public var total: Int { outsideHoursOrLimit + backingOff + heldByDisabledTargets + inPausedCampaigns }
}

extension AppDatabase {
    /// Counts the unsent letters (of `slug`, or of every campaign) by the reason they wait.
    public func waitingLetters(campaign slug: String?, now: Date) throws(AppealsError) -> WaitingLetters {
        try read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT
                    COUNT(CASE WHEN c.status = 'active' AND t.disabled = 0 AND l.due_at <= ? THEN 1 END),
                    COUNT(CASE WHEN c.status = 'active' AND t.disabled = 0 AND l.status = 'deferred' AND l.due_at > ? THEN 1 END),
                    MIN(CASE WHEN c.status = 'active' AND t.disabled = 0 AND l.status = 'deferred' AND l.due_at > ? THEN l.due_at END),
                    COUNT(CASE WHEN t.disabled = 1 THEN 1 END),
                    COUNT(CASE WHEN c.status = 'paused' AND t.disabled = 0 THEN 1 END)
                FROM letter l JOIN campaign c ON c.id = l.campaign_id JOIN target t ON t.id = l.target_id
                WHERE l.status IN ('queued', 'deferred') AND c.status IN ('active', 'paused') AND (? IS NULL OR c.slug = ?)
                """, arguments: [now, now, now, slug, slug])!
            var waiting = WaitingLetters()
            waiting.outsideHoursOrLimit = row[0]
            waiting.backingOff = row[1]
            waiting.nextRetry = row[2]
            waiting.heldByDisabledTargets = row[3]
            waiting.inPausedCampaigns = row[4]
            waiting.heldByOtherRuns = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM letter l JOIN campaign c ON c.id = l.campaign_id
                WHERE l.status = 'sending' AND (? IS NULL OR c.slug = ?)
                """, arguments: [slug, slug]) ?? 0
            return waiting
        }
    }
}
