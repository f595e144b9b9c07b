import Foundation
import GRDB

extension AppDatabase {
    public static let exportColumns = [
        "supporter_name", "supporter_email", "target_name", "target_email", "target_kind", "status", "attempts",
        "last_code", "last_reply", "sent_at", "message_id", "possible_duplicate",
    ]

    /// Streams one CSV line per letter of a campaign (header first) to `write`, never holding the whole campaign.
    /// - Parameter status: only letters in this status.
    /// - Parameter spreadsheetSafe: a `'` before every cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
    ///   return, so that text typed by a stranger (on the campaign page) cannot become a formula.
    public func exportLetters(campaign slug: String, status: LetterStatus? = nil, spreadsheetSafe: Bool = false,
                              write: (String) throws -> Void) throws(AppealsError) {
        do {
            try writer.read { db in
                let campaign = try Self.campaign(slug, in: db)
                try write(CSVWriter.line(Self.exportColumns))
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT s.name, s.email, t.name, t.email, t.kind, l.status, l.attempts, l.last_code, l.last_reply,
                           l.sent_at, l.message_id, l.possible_duplicate
                    FROM letter l JOIN supporter s ON s.id = l.supporter_id JOIN target t ON t.id = l.target_id
                    WHERE l.campaign_id = ? AND (? IS NULL OR l.status = ?) ORDER BY l.id
                    """, arguments: [campaign.id, status, status])
                let iso = ISO8601DateFormatter()
                while let row = try rows.next() {
                    let sentAt = (row[9] as Date?).map { iso.string(from: $0) } ?? ""
                    let code = (row[7] as Int?).map(String.init) ?? ""
                    let cells: [String] = [
                        row[0] ?? "", row[1] ?? "", row[2], row[3], row[4], row[5], String(row[6] as Int), code, row[8] ?? "",
                        sentAt, row[10], (row[11] as Bool) ? "yes" : "no",
                    ]
                    try write(CSVWriter.line(spreadsheetSafe ? cells.map(Self.defused) : cells))
                }
            }
        } catch let error as AppealsError {
            throw error
        } catch {
            throw .storage("cannot export \(slug): \(Self.describe(error))")
        }
    }
}

extension AppDatabase {
    static func defused(_ cell: String) -> String {
        guard let first = cell.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return cell }
        return "'" + cell
    }
}

/// One letter as `letter list` shows it.
public struct LetterListing: Sendable, Equatable {
    public var supporterName: String
    public var supporterEmail: String?
    public var targetName: String
    public var targetEmail: String
    public var status: LetterStatus
    public var attempts: Int
    public var lastCode: Int?
    public var lastReply: String?
    public var updatedAt: Date
}

extension AppDatabase {
    /// A campaign's letters (only those in `status`, if given), in the order they were queued, at most `limit`.
    public func letters(campaign slug: String, status: LetterStatus?, limit: Int) throws(AppealsError) -> [LetterListing] {
        try read { db in
            let campaign = try Self.campaign(slug, in: db)
            return try Row.fetchAll(db, sql: """
                SELECT s.name, s.email, t.name, t.email, l.status, l.attempts, l.last_code, l.last_reply, l.updated_at
                FROM letter l JOIN supporter s ON s.id = l.supporter_id JOIN target t ON t.id = l.target_id
                WHERE l.campaign_id = ? AND (? IS NULL OR l.status = ?) ORDER BY l.id LIMIT ?
                """, arguments: [campaign.id, status, status, limit]).map { row in
                LetterListing(supporterName: row[0], supporterEmail: row[1], targetName: row[2], targetEmail: row[3], status: row[4],
                              attempts: row[5], lastCode: row[6], lastReply: row[7], updatedAt: row[8])
            }
        }
    }
}
