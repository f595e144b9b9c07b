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
                try ExportWriteFailure.writing { try write(CSVWriter.line(Self.exportColumns)) }
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT s.name, s.email, t.name, t.email, t.kind, l.status, l.attempts, l.last_code, l.last_reply,
                           l.sent_at, l.message_id, l.possible_duplicate
                    FROM letter l JOIN supporter s ON s.id = l.supporter_id JOIN target t ON t.id = l.target_id
                    WHERE l.campaign_id = ? AND (? IS NULL OR l.status = ?) ORDER BY l.id
                    """, arguments: [campaign.id, status, status])
                let iso = ISO8601DateFormatter()
                while let row = try rows.next() {
                    let letter = ExportedLetter(supporterName: row[0], supporterEmail: row[1], targetName: row[2], targetEmail: row[3],
                                                targetKind: row[4], status: row[5], attempts: row[6], lastCode: row[7], lastReply: row[8],
                                                sentAt: row[9], messageId: row[10], possibleDuplicate: row[11])
                    try ExportWriteFailure.writing { try write(letter.csvLine(spreadsheetSafe: spreadsheetSafe, dates: iso)) }
                }
            }
        } catch let error as AppealsError {
            throw error
        } catch let failure as ExportWriteFailure {
            throw failure.reported
        } catch {
            throw .storage("cannot export \(slug): \(Self.describe(error))")
        }
    }
}

/// What an export's `write` threw: the output failed (a full disk, a closed pipe), not the store, and is
/// reported in its own words.
public struct ExportWriteFailure: Error {
    let error: any Error

    /// Runs `write`, its failure wrapped.
    public static func writing(_ write: () throws -> Void) throws {
        do {
            try write()
        } catch {
            throw ExportWriteFailure(error: error)
        }
    }

    /// The failure as a command reports it (exit 1).
    public var reported: AppealsError { error as? AppealsError ?? .storage("\(error)") }
}

/// One letter as `export` writes it, from either store.
public struct ExportedLetter: Sendable {
    public var supporterName: String?
    public var supporterEmail: String?
    public var targetName: String
    public var targetEmail: String
    public var targetKind: String
    public var status: String
    public var attempts: Int
    public var lastCode: Int?
    public var lastReply: String?
    public var sentAt: Date?
    public var messageId: String
    public var possibleDuplicate: Bool

    public init(supporterName: String?, supporterEmail: String?, targetName: String, targetEmail: String, targetKind: String, status: String,
                attempts: Int, lastCode: Int?, lastReply: String?, sentAt: Date?, messageId: String, possibleDuplicate: Bool) {
        (self.supporterName, self.supporterEmail, self.targetName, self.targetEmail, self.targetKind) = (supporterName, supporterEmail, targetName, targetEmail, targetKind)
        (self.status, self.attempts, self.lastCode, self.lastReply) = (status, attempts, lastCode, lastReply)
        (self.sentAt, self.messageId, self.possibleDuplicate) = (sentAt, messageId, possibleDuplicate)
    }

    /// Its CSV line, in the order of ``AppDatabase/exportColumns``.
    /// - Parameter spreadsheetSafe: a `'` before every cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
    ///   return, so that text typed by a stranger (on the campaign page) cannot become a formula.
    public func csvLine(spreadsheetSafe: Bool, dates: ISO8601DateFormatter) -> String {
        let cells = [supporterName ?? "", supporterEmail ?? "", targetName, targetEmail, targetKind, status, String(attempts),
                     lastCode.map(String.init) ?? "", lastReply ?? "", sentAt.map { dates.string(from: $0) } ?? "", messageId,
                     possibleDuplicate ? "yes" : "no"]
        return CSVWriter.line(spreadsheetSafe ? cells.map(Self.defused) : cells)
    }

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

    public init(supporterName: String, supporterEmail: String?, targetName: String, targetEmail: String, status: LetterStatus, attempts: Int,
                lastCode: Int?, lastReply: String?, updatedAt: Date) {
        (self.supporterName, self.supporterEmail, self.targetName, self.targetEmail) = (supporterName, supporterEmail, targetName, targetEmail)
        (self.status, self.attempts, self.lastCode, self.lastReply, self.updatedAt) = (status, attempts, lastCode, lastReply, updatedAt)
    }
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
