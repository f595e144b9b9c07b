import Foundation
import GRDB

/// What erasing a supporter did.
public struct ErasureReport: Sendable, Equatable {
    /// Letters whose bodies were erased (the letters themselves stay, for the counts).
    public var lettersErased = 0
    /// Pending letters cancelled: a letter without its supporter's data cannot be sent in their name.
    public var lettersCancelled = 0
}

extension AppDatabase {
    /// Removes a supporter's personal data (name, email, city, note, and their letters' bodies) while
    /// keeping every count: the supporter row, their letters' statuses and the delivery attempts remain.
    /// - Throws: ``AppealsError/notFound(_:)`` when the campaign has no supporter with that email.
    public func eraseSupporter(email: String, campaign slug: String, now: Date = Date()) throws(AppealsError) -> ErasureReport {
        let report = try write { db in
            let campaign = try Self.campaign(slug, in: db)
            guard var supporter = try Supporter.filter(Column("campaign_id") == campaign.id! && Column("email_key") == EmailAddress.key(email)).fetchOne(db)
            else { throw AppealsError.notFound("\(email) is not a supporter of \(slug) (or was erased already)") }
            var report = ErasureReport()
            try db.execute(sql: """
                UPDATE letter SET status = 'cancelled', updated_at = ?
                WHERE supporter_id = ? AND status IN ('queued', 'deferred')
                """, arguments: [now, supporter.id])
            report.lettersCancelled = db.changesCount
            try db.execute(sql: "UPDATE letter_text SET body = '' WHERE letter_id IN (SELECT id FROM letter WHERE supporter_id = ?)",
                           arguments: [supporter.id])
            report.lettersErased = db.changesCount
            supporter.name = ""
            supporter.email = nil
            supporter.emailKey = nil
            supporter.city = nil
            supporter.personalNote = nil
            supporter.erasedAt = now
            try supporter.update(db)
            return report
        }
        // The old row versions sit in the write-ahead log until a checkpoint: fold them into the file (where
        // secure_delete has zeroed them) and empty the log.
        do {
            try writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            throw .storage("erased \(email), but could not checkpoint the database \(path): \(Self.describe(error))")
        }
        return report
    }
}
