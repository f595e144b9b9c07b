import Foundation
import GRDB

extension AppDatabase {
    public static let exportColumns = [
        "supporter_name", "supporter_email", "target_name", "target_email", "target_kind", "status", "attempts",
        "last_code", "last_reply", "sent_at", "message_id", "possible_duplicate",
    ]

    /// Streams one CSV line per letter of a campaign (header first) to `write`, never holding the whole campaign.
    public func exportLetters(campaign slug: String, write: (String) throws -> Void) throws(AppealsError) {
        do {
            try writer.read { db in
                let campaign = try Self.campaign(slug, in: db)
                try write(CSVWriter.line(Self.exportColumns))
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT s.name, s.email, t.name, t.email, t.kind, l.status, l.attempts, l.last_code, l.last_reply,
                           l.sent_at, l.message_id, l.possible_duplicate
                    FROM letter l JOIN supporter s ON s.id = l.supporter_id JOIN target t ON t.id = l.target_id
                    WHERE l.campaign_id = ? ORDER BY l.id
                    """, arguments: [campaign.id])
                let iso = ISO8601DateFormatter()
                while let row = try rows.next() {
                    let sentAt = (row[9] as Date?).map { iso.string(from: $0) } ?? ""
                    let code = (row[7] as Int?).map(String.init) ?? ""
                    try write(CSVWriter.line([
                        row[0] ?? "", row[1] ?? "", row[2], row[3], row[4], row[5], String(row[6] as Int), code, row[8] ?? "",
                        sentAt, row[10], (row[11] as Bool) ? "yes" : "no",
                    ]))
                }
            }
        } catch let error as AppealsError {
            throw error
        } catch {
            throw .storage("cannot export \(slug): \(Self.describe(error))")
        }
    }
}
