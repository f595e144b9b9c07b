import Foundation
import GRDB

/// What erasing a supporter did.
public struct ErasureReport: Sendable, Equatable {
    /// Letters whose texts were erased (the letters themselves stay, for the counts).
    public var lettersErased = 0
    /// Unsent letters cancelled, including those a running `send` had claimed: a letter without its supporter's
    /// data is never sent in their name.
    public var lettersCancelled = 0
    /// Stored server replies from which the supporter's address or name was removed.
    public var repliesScrubbed = 0
    /// The Message-IDs of the supporter's letters, so that copies outside the database (the `file://` outbox)
    /// can be found.
    public var messageIds: [String] = []

    public init() {}
}

extension Supporter {
    /// The supporter once erased: the row stays, for the counts, without a name, address, city or note.
    public func erased(at now: Date) -> Supporter {
        var supporter = self
        supporter.name = ""
        supporter.email = nil
        supporter.emailKey = nil
        supporter.city = nil
        supporter.personalNote = nil
        supporter.erasedAt = now
        return supporter
    }
}

extension AppDatabase {
    /// Removes a supporter's personal data (name, email, city, note, their letters' subjects and bodies, and
    /// their address or name wherever a server's reply quoted it) while keeping every count: the supporter row,
    /// their letters' statuses and the delivery attempts remain.
    /// - Throws: ``AppealsError/notFound(_:)`` when the campaign has no supporter with that email.
    public func eraseSupporter(email: String, campaign slug: String, now: Date = Date()) throws(AppealsError) -> ErasureReport {
        let report = try write { db in
            let campaign = try Self.campaign(slug, in: db)
            guard let supporter = try Supporter.filter(Column("campaign_id") == campaign.id! && Column("email_key") == EmailAddress.key(email)).fetchOne(db)
            else { throw AppealsError.notFound("\(email) is not a supporter of \(slug) (or was erased already)") }
            var report = ErasureReport()
            report.lettersCancelled = try Self.cancelUnsentLetters(db, where: "supporter_id", is: supporter.id!, now: now)
            try db.execute(sql: "UPDATE letter_text SET subject = '', body = '' WHERE letter_id IN (SELECT id FROM letter WHERE supporter_id = ?)",
                           arguments: [supporter.id])
            report.lettersErased = db.changesCount
            report.messageIds = try String.fetchAll(db, sql: "SELECT message_id FROM letter WHERE supporter_id = ? ORDER BY id", arguments: [supporter.id])
            let scrub = ReplyScrubber(email: supporter.email ?? email, name: supporter.name)
            report.repliesScrubbed = try scrub.apply(db, supporterId: supporter.id!, campaignId: campaign.id!)
            report.repliesScrubbed += try Self.eraseFromBounces(db, supporter: supporter, campaignId: campaign.id!, scrubber: scrub)
            // The requests from the campaign page held the same data.
            try db.execute(sql: "DELETE FROM submission WHERE campaign_id = ? AND email_key = ?", arguments: [campaign.id, supporter.emailKey])
            try supporter.erased(at: now).update(db)
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

extension AppDatabase {
    /// Bounces name a supporter when their copy bounced or an unmatched message quoted them: their reports go,
    /// their address and name leave the texts stored about the others, and a kept message that mentions their
    /// address anywhere (encoded or not) is removed.
    /// - Returns: how many stored texts changed.
    static func eraseFromBounces(_ db: Database, supporter: Supporter, campaignId: Int64, scrubber: ReplyScrubber) throws -> Int {
        guard let key = supporter.emailKey else { return 0 }
        let mine = "letter_id IN (SELECT id FROM letter WHERE supporter_id = ?)"
        try db.execute(sql: "DELETE FROM bounce WHERE lower(recipient) = ? AND (letter_id IS NULL OR \(mine))", arguments: [key, supporter.id])
        var changed = db.changesCount
        // The messages of this campaign, and those matched to none.
        let messages = "SELECT id FROM bounce_message WHERE campaign_id = ? OR campaign_id IS NULL"
        for row in try Row.fetchAll(db, sql: "SELECT id, recipient, diagnostic, effect FROM bounce WHERE message_id IN (\(messages))",
                                    arguments: [campaignId]) {
            let texts: [String?] = [row[1], row[2], row[3]]
            let clean = texts.map { $0.map(scrubber.scrubbed) }
            guard clean != texts else { continue }
            try db.execute(sql: "UPDATE bounce SET recipient = ?, diagnostic = ?, effect = ? WHERE id = ?",
                           arguments: [clean[0], clean[1], clean[2], row[0] as Int64])
            changed += 1
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, sender, subject, outcome, problem, raw FROM bounce_message WHERE id IN (\(messages))",
                                    arguments: [campaignId]) {
            let texts: [String?] = [row[1], row[2], row[3], row[4]]
            let (clean, raw) = scrubber.scrubbedMessage(texts: texts, raw: row[5])
            guard clean != texts || raw != row[5] else { continue }
            try db.execute(sql: "UPDATE bounce_message SET sender = ?, subject = ?, outcome = ?, problem = ?, raw = ? WHERE id = ?",
                           arguments: [clean[0], clean[1], clean[2], clean[3], raw, row[0] as Int64])
            changed += 1
        }
        return changed
    }
}

/// Removes a supporter's address and name from the SMTP replies stored for their letters (a server may quote
/// the `Cc` address), and from a target's disabling reason.
public struct ReplyScrubber: Sendable {
    let email: String
    let name: String
    /// What is replaced: the address in its quoted forms, and the name. A name of a few letters would also match
    /// ordinary words of the reply.
    private let values: [String]
    /// The address, in every form a kept message may hold it.
    let search: AddressSearch
    static let mark = "[erased]"

    public init(email: String, name: String) {
        self.email = email
        self.name = name
        search = AddressSearch(EmailAddress.key(email))
        values = (AddressSearch.quotedForms(of: email) + [name]).filter { $0.count >= 4 }
    }

    /// The address's local part, as every quoted form of it has it.
    public var localPart: String { String(email.lowercased().split(separator: "@").first ?? "") }

    public func scrubbed(_ text: String) -> String {
        values.reduce(text) { text, value in text.replacingOccurrences(of: value, with: Self.mark, options: .caseInsensitive) }
    }

    /// A kept bounce message's texts (sender, subject, outcome, problem) scrubbed, and its raw bytes dropped when
    /// they mention the address anywhere: the parts decoded, and the raw bytes (a preamble, an epilogue or a
    /// part of no text type is in them only).
    public func scrubbedMessage(texts: [String?], raw: Data?) -> (texts: [String?], raw: Data?) {
        var clean = texts.map { $0.map(scrubbed) }
        guard let bytes = raw, search.found(in: bytes) || ReceivedMessage(parsing: [UInt8](bytes)).mentions(search) else { return (clean, raw) }
        clean[2] = (clean[2] ?? "") + " (the message was removed when a supporter it named was erased)"
        return (clean, nil)
    }

    /// - Returns: how many stored texts changed.
    func apply(_ db: Database, supporterId: Int64, campaignId: Int64) throws -> Int {
        var changed = 0
        let places: [(select: String, update: String, arguments: StatementArguments)] = [
            ("SELECT id, last_reply FROM letter WHERE supporter_id = ? AND last_reply IS NOT NULL",
             "UPDATE letter SET last_reply = ? WHERE id = ?", [supporterId]),
            ("SELECT a.id, a.reply FROM delivery_attempt a JOIN letter l ON l.id = a.letter_id WHERE l.supporter_id = ?",
             "UPDATE delivery_attempt SET reply = ? WHERE id = ?", [supporterId]),
            ("SELECT id, disabled_reason FROM target WHERE campaign_id = ? AND disabled_reason IS NOT NULL",
             "UPDATE target SET disabled_reason = ? WHERE id = ?", [campaignId]),
            // A reply about another supporter's letter (a bounce's words) may quote this address too.
            ("SELECT id, last_reply FROM letter WHERE campaign_id = ? AND instr(lower(last_reply), ?) > 0",
             "UPDATE letter SET last_reply = ? WHERE id = ?", [campaignId, localPart]),
            ("SELECT a.id, a.reply FROM delivery_attempt a JOIN letter l ON l.id = a.letter_id WHERE l.campaign_id = ? AND instr(lower(a.reply), ?) > 0",
             "UPDATE delivery_attempt SET reply = ? WHERE id = ?", [campaignId, localPart]),
        ]
        for place in places {
            for row in try Row.fetchAll(db, sql: place.select, arguments: place.arguments) {
                let id: Int64 = row[0]
                let text: String = row[1]
                let clean = scrubbed(text)
                if clean != text {
                    try db.execute(sql: place.update, arguments: [clean, id])
                    changed += 1
                }
            }
        }
        return changed
    }
}
