import Appeals
import Foundation
import GRDB
import Testing
import TestSupport

/// Bounces acting on letters and targets, in a real database: matching, trust, classes and thresholds.
@Suite struct BounceTests {
    static let bounceAddress = "bounces@appeals.example.org"

    /// A database with the example campaign's letters queued and all marked sent.
    struct Sent {
        let test: TestDatabase
        let key: Data
        let policy: BouncePolicy
        var database: AppDatabase { test.database }
        var returnPath: ReturnPath { policy.returnPath! }

        init(verp: Bool = true) async throws {
            test = try TestDatabase()
            try test.createExampleCampaign()
            _ = try test.importSupporters("../../templates/observatory-urgent-appeal/supporters.sample.csv")
            _ = try await test.queue()
            try await test.database.writer.write { db in
                try db.execute(sql: "UPDATE letter SET status = 'sent', sent_at = ?", arguments: [TestDatabase.fixedNow])
            }
            key = try test.database.secretKey(named: "verp")
            policy = BouncePolicy(returnPath: verp ? ReturnPath(bounceAddress: BounceTests.bounceAddress, key: key) : nil,
                                  ownAddresses: ["appeals@example.org"])
        }

        /// The letter to `target` of the first supporter, and a second supporter's letter to it.
        func letter(to target: String, offset: Int = 0) throws -> (id: Int64, messageId: String) {
            try database.writer.read { db in
                let row = try #require(try Row.fetchOne(db, sql: """
                    SELECT l.id, l.message_id FROM letter l JOIN target t ON t.id = l.target_id WHERE t.email = ? ORDER BY l.id LIMIT 1 OFFSET ?
                    """, arguments: [target, offset]))
                return (row[0], row[1])
            }
        }

        func value<T: DatabaseValueConvertible>(_ sql: String, _ arguments: StatementArguments = []) throws -> T? {
            try database.writer.read { db in try T.fetchOne(db, sql: sql, arguments: arguments) }
        }

        func ingest(_ fixture: String, verp: String, recipient: String, status: String = "5.1.1", action: String = "failed",
                    diagnostic: String = "550 5.1.1 <x>: Recipient address rejected: User unknown", messageId: String,
                    now: Date = TestDatabase.fixedNow) throws -> BounceIngestResult {
            let text = Fixtures.bounce(fixture, ["VERP": verp, "RCPT": recipient, "STATUS": status, "ACTION": action,
                                                 "DIAGNOSTIC": diagnostic, "MESSAGE_ID": messageId])
            return try database.ingestBounce(InboundMessage(bytes: Array(text.utf8), source: fixture), policy: policy, now: now)
        }

        func targetState(_ email: String) throws -> (disabled: Bool, reason: String?) {
            try database.writer.read { db in
                let row = try #require(try Row.fetchOne(db, sql: "SELECT disabled, disabled_reason FROM target WHERE email = ?", arguments: [email]))
                return (row[0], row[1])
            }
        }

        func status(_ letterId: Int64) throws -> String? { try value("SELECT status FROM letter WHERE id = ?", [letterId]) }
    }

    @Test("a return path names its letter with a MAC; any other token is forged; case does not matter")
    func returnPaths() throws {
        let key = Data(repeating: 7, count: 32)
        let path = try #require(ReturnPath(bounceAddress: Self.bounceAddress, key: key))
        let address = path.address(forLetter: 42)
        #expect(address.hasPrefix("bounces+l42-") && address.hasSuffix("@appeals.example.org"))
        #expect(path.token(in: address) == .letter(42))
        #expect(path.token(in: address.uppercased()) == .letter(42))
        #expect(path.token(in: path.address(forTestOf: 3)) == .test(targetId: 3))
        #expect(path.token(in: address.replacingOccurrences(of: "l42-", with: "l43-")) == .forged(String(address.dropFirst(8).prefix { $0 != "@" }).replacingOccurrences(of: "l42-", with: "l43-")))
        let other = try #require(ReturnPath(bounceAddress: Self.bounceAddress, key: Data(repeating: 8, count: 32)))
        if case .forged = path.token(in: other.address(forLetter: 42)) {} else { Issue.record("a token made with another key was accepted") }
        #expect(path.token(in: "bounces@appeals.example.org") == nil)
        #expect(path.token(in: "someone+l42-aaaa@appeals.example.org") == nil)
    }

    @Test("rejections about our sender are policy, never a dead mailbox", arguments: [
        ("5.0.0", "550-Verification failed for <bounces+l1@example.org> 550-Unrouteable address 550 Sender verify failed"),
        ("5.1.0", "553 5.1.0 Sender address rejected: not permitted from your IP"),
        ("5.0.0", "550 Sender domain does not exist"), ("5.0.0", "550 Too many invalid recipients"),
        ("5.7.1", "550 5.7.1 Message rejected due to DMARC policy"),
    ])
    func senderRejections(status: String, diagnostic: String) {
        #expect(BounceClass.classify(action: "failed", status: status, diagnostic: diagnostic) == .policy)
    }

    @Test("long bodies, blank lines, a 40,000-character field, long lines of dashes or spaces, unclosed HTML tags and thousands of addresses or DSN groups are read in one pass, at most 100 reports (once quadratic: minutes)")
    func hostileShapes() {
        let html = "Content-Type: text/html\n"
        let groups = (0..<5000).map { "Final-Recipient: rfc822; u\($0)@example.com\nAction: failed\nStatus: 5.1.1\n" }.joined(separator: "\n")
        let dsn = "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n"
        let cases: [(fields: String, body: String, reports: Int)] = [
            ("", String(repeating: "line user unknown\n", count: 20_000), 0), ("", String(repeating: "\n", count: 40_000), 0),
            ("", (0..<1000).map { "u\($0)@example.com" }.joined(separator: " "), BounceAnalysis.maxReports),
            // A `<` that nothing closes: the rest is text, read once.
            (html, String(repeating: "<a", count: 20_000) + " gone@example.com: user unknown", 1),
            (html, String(repeating: "<script>", count: 20_000) + "<p>gone@example.com: user unknown</p>", 0),
            (html, "<style>p { x: y }</style><p>gone@example.com:<br>550 user unknown</p>", 1),
            // Lines of 20,000 dashes, 40,000 spaces or 20,000 paragraphs (each a space): once minutes each.
            ("", "hi\n" + String(repeating: "-", count: 20_000) + "\ngone@example.com: user unknown\n", 1),
            ("", "hi\n" + String(repeating: " ", count: 40_000) + "\ngone@example.com: user unknown\n", 1),
            (html, String(repeating: "<p>", count: 20_000) + "gone@example.com: user unknown", 1),
            (dsn, "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x.org\n\n\(groups)\n--b--\n", BounceAnalysis.maxReports),
        ]
        for item in cases {
            let message = "From: MAILER-DAEMON@x.org\nTo: \(String(repeating: "a", count: 40_000))\nSubject: Undelivered\n\(item.fields)\n" + item.body
            let reports = BounceParser.analyze(ReceivedMessage(parsing: Array(message.utf8))).reports
            #expect(reports.count == item.reports, "\(item.body.prefix(60))")
            if item.reports == 1 { #expect(reports.first?.recipient == "gone@example.com" && reports.first?.bounceClass == .mailbox, "\(reports)") }
        }
    }

    @Test("what a server says is stored without its control characters: no escape sequence reaches a terminal through status or letter list")
    func controlCharacters() async throws {
        let sent = try await Sent()
        let letter = try sent.letter(to: "president@example.org")
        _ = try sent.ingest("dsn.eml", verp: sent.returnPath.address(forLetter: letter.id), recipient: "president@example.org",
                            diagnostic: "550 5.1.1 user unknown \u{1B}]0;owned\u{07}\u{1B}[2J\rOVERWRITE \u{202E}evil", messageId: letter.messageId)
        let reason = try #require(try sent.targetState("president@example.org").reason)
        let reply: String = try #require(try sent.value("SELECT last_reply FROM letter WHERE id = ?", [letter.id]))
        for text in [reason, reply] {
            #expect(text.contains("user unknown") && text.contains("OVERWRITE"), "\(text)")
            #expect(!text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\r" || $0 == "\u{202E}" }, "\(text)")
        }
    }

    @Test("a DSN for a letter's return path: 5.1.1 bounces the letter and disables the target; the same DSN again changes nothing")
    func hardBounce() async throws {
        let sent = try await Sent()
        let letter = try sent.letter(to: "president@example.org")
        let first = try sent.ingest("dsn.eml", verp: sent.returnPath.address(forLetter: letter.id), recipient: "president@example.org",
                                    messageId: letter.messageId)
        #expect(first.isNew && first.bounceClass == .mailbox, "\(first)")
        #expect(try sent.status(letter.id) == "bounced")
        let target = try sent.targetState("president@example.org")
        #expect(target.disabled && target.reason?.contains("5.1.1") == true, "\(target)")
        let report = try sent.database.report(campaign: TestDatabase.slug)
        #expect(report.letters.bounced == 1)
        let president = try #require(report.targets.first { $0.email == "president@example.org" })
        #expect(president.bounced == 1 && president.bounces.mailbox == 1)
        #expect(report.json.text.contains("\"bounced\": 1}, \"possibleDuplicates\""))

        let again = try sent.ingest("dsn.eml", verp: sent.returnPath.address(forLetter: letter.id), recipient: "president@example.org",
                                    messageId: letter.messageId)
        #expect(!again.isNew && again.outcome.hasPrefix("already ingested"))
        #expect(try sent.value("SELECT COUNT(*) FROM bounce") == 1 as Int)
    }

    @Test("forged bounces change nothing: a wrong MAC, a letter that does not exist, another target, another letter's Message-ID")
    func forged() async throws {
        let sent = try await Sent()
        let letter = try sent.letter(to: "president@example.org")
        let prosecutor = try sent.letter(to: "prosecutor-general@example.org")
        let good = sent.returnPath.address(forLetter: letter.id)
        let wrongMAC = good.replacingOccurrences(of: "-", with: "-a").replacingOccurrences(of: "-aa", with: "-ab")
        let unknown = sent.returnPath.address(forLetter: 999_999)
        let results = [
            try sent.ingest("dsn.eml", verp: wrongMAC, recipient: "president@example.org", messageId: letter.messageId),
            try sent.ingest("dsn.eml", verp: unknown, recipient: "president@example.org", messageId: letter.messageId),
            // A valid token reused to disable another target.
            try sent.ingest("dsn.eml", verp: good, recipient: "prosecutor-general@example.org", messageId: letter.messageId),
            // A valid token with another letter's headers.
            try sent.ingest("dsn.eml", verp: good, recipient: "president@example.org", messageId: prosecutor.messageId),
        ]
        #expect(results.allSatisfy { $0.isNew })
        #expect(results.allSatisfy { $0.outcome.contains("changed nothing") }, "\(results.map(\.outcome))")
        #expect(try sent.value("SELECT COUNT(*) FROM letter WHERE status = 'bounced'") == 0 as Int)
        #expect(try sent.value("SELECT COUNT(*) FROM target WHERE disabled = 1") == 0 as Int)
        #expect(try sent.value("SELECT COUNT(*) FROM bounce WHERE counted = 1") == 0 as Int)
        // The envelope recipient decides: a forged one is not saved by a valid token in the message's fields.
        let envelope = try sent.database.ingestBounce(InboundMessage(
            bytes: Array(Fixtures.bounce("dsn.eml", ["VERP": good, "RCPT": "president@example.org", "STATUS": "5.1.1", "ACTION": "failed",
                                                     "DIAGNOSTIC": "550 5.1.1 unknown", "MESSAGE_ID": letter.messageId]).utf8),
            source: "pipe", envelopeRecipient: wrongMAC), policy: sent.policy)
        #expect(envelope.outcome.contains("not one of ours"), "\(envelope.outcome)")
        #expect(try sent.status(letter.id) == "sent")
        let verp: [String] = try await sent.database.writer.read { db in try String.fetchAll(db, sql: "SELECT verp FROM bounce_message ORDER BY id") }
        #expect(verp == ["forged", "forged", "letter", "letter", "forged"])
        // Forged messages matched no letter: they are kept for the organizer.
        let kept: Int = try #require(try sent.value("SELECT COUNT(*) FROM bounce_message WHERE raw IS NOT NULL"))
        #expect(kept == 4)
    }

    @Test("with VERP set, a bounce matched only by Message-ID is recorded and changes nothing; without VERP it acts")
    func unverified() async throws {
        let withVERP = try await Sent()
        let letter = try withVERP.letter(to: "president@example.org")
        let result = try withVERP.ingest("dsn.eml", verp: "appeals@example.org", recipient: "president@example.org", messageId: letter.messageId)
        #expect(result.outcome.contains("without a return-path token"), "\(result.outcome)")
        #expect(try withVERP.status(letter.id) == "sent")
        #expect(try withVERP.targetState("president@example.org").disabled == false)

        let plain = try await Sent(verp: false)
        let plainLetter = try plain.letter(to: "president@example.org")
        _ = try plain.ingest("dsn.eml", verp: "appeals@example.org", recipient: "president@example.org", messageId: plainLetter.messageId)
        #expect(try plain.status(plainLetter.id) == "bounced")
        #expect(try plain.targetState("president@example.org").disabled)
        // A plain-text bounce without the Message-ID: the last letter sent to the address.
        let other = try plain.letter(to: "prosecutor-general@example.org")
        let byAddress = try plain.ingest("qmail.eml", verp: "appeals@example.org", recipient: "prosecutor-general@example.org", messageId: "")
        #expect(byAddress.bounceClass == .mailbox, "\(byAddress)")
        #expect(try plain.targetState("prosecutor-general@example.org").disabled)
        #expect(try plain.value("SELECT matched_by FROM bounce WHERE recipient = 'prosecutor-general@example.org'") == "recipient" as String)
        _ = other
    }

    @Test("a policy rejection (5.7.x) bounces the letter and keeps the target; it is counted apart")
    func policy() async throws {
        let sent = try await Sent()
        let letter = try sent.letter(to: "president@example.org")
        let result = try sent.ingest("dsn.eml", verp: sent.returnPath.address(forLetter: letter.id), recipient: "president@example.org",
                                     status: "5.7.1", diagnostic: "550 5.7.1 Message rejected due to DMARC policy", messageId: letter.messageId)
        #expect(result.bounceClass == .policy)
        #expect(try sent.status(letter.id) == "bounced")
        #expect(try sent.targetState("president@example.org").disabled == false)
        let president = try #require(try sent.database.report(campaign: TestDatabase.slug).targets.first { $0.email == "president@example.org" })
        #expect(president.bounces.policy == 1 && president.bounces.mailbox == 0 && president.bounced == 1)
    }

    @Test("temporary failures disable a target only when reported on three different days within two weeks")
    func transientThreshold() async throws {
        let sent = try await Sent()
        let day: Double = 86_400
        var outcomes: [String] = []
        for (index, offset) in [0, 0.2, 1, 6].enumerated() {
            let letter = try sent.letter(to: "president@example.org", offset: index)
            let result = try sent.ingest("dsn.eml", verp: sent.returnPath.address(forLetter: letter.id), recipient: "president@example.org",
                                         status: "4.2.2", diagnostic: "452 4.2.2 Mailbox full", messageId: letter.messageId,
                                         now: TestDatabase.fixedNow.addingTimeInterval(offset * day))
            #expect(result.bounceClass == .transient)
            #expect(try sent.status(letter.id) == "sent")
            outcomes.append(result.outcome)
            // Two reports on the first day, one on the second: not yet.
            #expect(try sent.targetState("president@example.org").disabled == (index == 3), "after report \(index): \(outcomes)")
        }
        #expect(outcomes.last?.contains("disabled after temporary failures on 3 days") == true, "\(outcomes)")
        #expect(try sent.targetState("president@example.org").reason?.contains("temporary failures reported on 3 days") == true)
    }

    @Test("delays, out-of-office replies, feedback reports and the supporter's copy change nothing", arguments: [
        ("dsn.eml", "delayed", BounceClass.delayed), ("out-of-office.eml", "", .autoReply), ("arf.eml", "", .feedback),
    ])
    func notFailures(fixture: String, action: String, expected: BounceClass) async throws {
        let sent = try await Sent()
        let letter = try sent.letter(to: "president@example.org")
        let result = try sent.ingest(fixture, verp: sent.returnPath.address(forLetter: letter.id), recipient: "president@example.org",
                                     status: "4.4.1", action: action.isEmpty ? "failed" : action, messageId: letter.messageId)
        #expect(result.bounceClass == expected, "\(result)")
        #expect(try sent.status(letter.id) == "sent")
        #expect(try sent.targetState("president@example.org").disabled == false)
        #expect(try sent.value("SELECT COUNT(*) FROM bounce WHERE counted = 1") == 0 as Int)
    }

    @Test("the same message with more or fewer empty lines after its end (an mbox's, a pipe's) is stored once")
    func trailingEmptyLines() async throws {
        let sent = try await Sent()
        let text = "From: postmaster@example.net\nSubject: hello\n\nnot a bounce\n"
        for ending in ["", "\n", "\n\n\n", "\r\n", "\r\n\r\n"] {
            _ = try sent.database.ingestBounce(InboundMessage(bytes: Array((text + ending).utf8), source: "ending"), policy: sent.policy)
        }
        #expect(try sent.value("SELECT COUNT(*) FROM bounce_message") == 1 as Int)
        // Its text is another message.
        _ = try sent.database.ingestBounce(InboundMessage(bytes: Array((text + "more\n").utf8), source: "other"), policy: sent.policy)
        #expect(try sent.value("SELECT COUNT(*) FROM bounce_message") == 2 as Int)
    }

    @Test("a bounce of the supporter's copy changes nothing, and goes when the supporter is erased")
    func supporterCopy() async throws {
        let sent = try await Sent()
        let letter = try sent.letter(to: "president@example.org")
        let supporter: String = try #require(try sent.value("SELECT s.email FROM supporter s JOIN letter l ON l.supporter_id = s.id WHERE l.id = ?", [letter.id]))
        let result = try sent.ingest("dsn.eml", verp: sent.returnPath.address(forLetter: letter.id), recipient: supporter, messageId: letter.messageId)
        #expect(result.outcome.contains("the supporter's copy"), "\(result.outcome)")
        // Erasing the supporter removes the report that names them.
        _ = try sent.database.eraseSupporter(email: supporter, campaign: TestDatabase.slug)
        #expect(try sent.value("SELECT COUNT(*) FROM bounce WHERE lower(recipient) = lower(?)", [supporter]) == 0 as Int)
        #expect(try sent.status(letter.id) == "sent")
        #expect(try sent.targetState("president@example.org").disabled == false)
    }

    @Test("erasing a supporter removes their address from every bounce: reports matched to nothing, texts, and kept messages that carry it encoded")
    func erasureReachesBounces() async throws {
        let sent = try await Sent(verp: false)
        let letter = try sent.letter(to: "president@example.org")
        let supporter: String = try #require(try sent.value("SELECT s.email FROM supporter s JOIN letter l ON l.supporter_id = s.id WHERE l.id = ?", [letter.id]))
        let other: String = try #require(try sent.value("SELECT email FROM supporter WHERE lower(email) <> lower(?) LIMIT 1", [supporter]))
        // A DSN about the supporter's address for no letter: its report, its diagnostic and its outcome name them.
        _ = try sent.ingest("dsn.eml", verp: "appeals@example.org", recipient: supporter, diagnostic: "550 5.1.1 <\(supporter)>: unknown",
                            messageId: "<unknown@example.org>")
        // Their address only in base64 and quoted-printable, in a message kept unmatched; another supporter's too.
        for (index, address) in [supporter, other].enumerated() {
            let encoded = Data("Your message to \(address) could not be delivered.\n".utf8).base64EncodedString()
            let qp = address.replacingOccurrences(of: "@", with: "=40")
            let text = "From: postmaster@example.net\nSubject: =?utf-8?B?\(Data("Undeliverable: \(address)".utf8).base64EncodedString())?=\n"
                + "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: base64\n\n\(encoded)\n"
                + "--b\nContent-Transfer-Encoding: quoted-printable\n\nOriginal recipient: \(qp)\n--b--\n"
            _ = try sent.database.ingestBounce(InboundMessage(bytes: Array(text.utf8), source: "encoded \(index)"), policy: sent.policy)
        }
        // Harder places: UTF-16, an RFC 2231 parameter, past 500 parts, and a chain of enclosed messages deeper than
        // anything is read (15,000 levels: once a crash).
        let utf16 = Data("Failed: \(supporter)".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }).base64EncodedString()
        let harder = [
            "Content-Type: text/plain; charset=utf-16le\nContent-Transfer-Encoding: base64\n\n\(utf16)\n",
            "Content-Type: text/plain; name*=utf-8''\(supporter.replacingOccurrences(of: "@", with: "%40"))\n\nsee attachment\n",
            "Content-Type: multipart/mixed; boundary=m\n\n" + String(repeating: "--m\n\nfiller\n", count: 501)
                + "--m\nContent-Transfer-Encoding: base64\n\n\(Data(supporter.utf8).base64EncodedString())\n--m--\n",
            "Content-Type: message/rfc822\n\n" + String(repeating: "Content-Type: message/rfc822\n\n", count: 15_000) + "From: x@y.org\n\nhello\n",
        ]
        for (index, fields) in harder.enumerated() {
            let text = "From: postmaster@example.net\nSubject: returned \(index)\n" + fields
            _ = try sent.database.ingestBounce(InboundMessage(bytes: Array(text.utf8), source: "harder \(index)"), policy: sent.policy)
        }
        // And the forms a hostile review found kept: %40 beside a stray %, an epilogue, raw UTF-16 bytes in a part of
        // no text type, UTF-16 without a byte order mark, UCS-2, UTF-32, a UTF-16 encoded word, an HTML reference.
        let percent = supporter.replacingOccurrences(of: "@", with: "%40")
        func wide(_ text: String, _ encode: (UInt32) -> [UInt8]) -> [UInt8] { text.unicodeScalars.flatMap { encode($0.value) } }
        let le16: (UInt32) -> [UInt8] = { [UInt8($0 & 0xFF), UInt8($0 >> 8 & 0xFF)] }
        let be32: (UInt32) -> [UInt8] = { value in (0..<4).reversed().map { UInt8(value >> (8 * $0) & 0xFF) } }
        let reviewed: [[UInt8]] = [
            Array("\n100% undeliverable: mailto:\(percent)\n".utf8),
            Array("X-Note: 50% off; rcpt=\(percent)\n\nhello\n".utf8),
            Array("Content-Type: multipart/mixed; boundary=e\n\n--e\n\nhello\n--e--\nepilogue \(supporter)\n".utf8),
            Array("Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: application/octet-stream\n\n".utf8) + wide(supporter, le16)
                + Array("\n--o--\n".utf8),
            Array("Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n\(Data(wide(supporter, le16)).base64EncodedString())\n".utf8),
            Array("Content-Type: text/plain; charset=ucs-2\nContent-Transfer-Encoding: base64\n\n\(Data([0xFF, 0xFE] + wide(supporter, le16)).base64EncodedString())\n".utf8),
            Array("Content-Type: text/plain; charset=utf-32\nContent-Transfer-Encoding: base64\n\n\(Data(wide(supporter, be32)).base64EncodedString())\n".utf8),
            Array("X-Failed: =?utf-16le?b?\(Data(wide(supporter, le16)).base64EncodedString())?=\n\nhello\n".utf8),
            Array("Content-Type: text/html\n\n<p>\(supporter.replacingOccurrences(of: "@", with: "&#64;"))</p>\n".utf8),
        ]
        for (index, rest) in reviewed.enumerated() {
            let bytes = Array("From: postmaster@example.net\nSubject: reviewed \(index)\n".utf8) + rest
            _ = try sent.database.ingestBounce(InboundMessage(bytes: bytes, source: "reviewed \(index)"), policy: sent.policy)
        }
        // A report about another letter whose server quoted the supporter's address percent-encoded.
        let otherLetter = try sent.letter(to: "prosecutor-general@example.org")
        _ = try sent.ingest("dsn.eml", verp: "appeals@example.org", recipient: "prosecutor-general@example.org",
                            diagnostic: "550 5.7.1 rejected: \(percent) is listed", messageId: otherLetter.messageId)
        let kept: Int = try #require(try sent.value("SELECT COUNT(*) FROM bounce_message WHERE raw IS NOT NULL"))
        #expect(kept == 7 + reviewed.count)
        _ = try sent.database.eraseSupporter(email: supporter, campaign: TestDatabase.slug)
        // No text about bounces names them any more, in any form the messages carried.
        for form in [supporter, percent] {
            let pattern = "%\(form.lowercased())%"
            #expect(try sent.value("""
                SELECT COUNT(*) FROM bounce WHERE lower(recipient) LIKE ?1 OR lower(diagnostic) LIKE ?1 OR lower(effect) LIKE ?1
                """, [pattern]) == 0 as Int, "\(form)")
            #expect(try sent.value("""
                SELECT COUNT(*) FROM bounce_message WHERE lower(sender) LIKE ?1 OR lower(subject) LIKE ?1 OR lower(outcome) LIKE ?1
                    OR lower(problem) LIKE ?1
                """, [pattern]) == 0 as Int, "\(form)")
            #expect(try sent.value("SELECT COUNT(*) FROM letter WHERE lower(last_reply) LIKE ?1", [pattern]) == 0 as Int, "\(form)")
            #expect(try sent.value("SELECT COUNT(*) FROM target WHERE lower(disabled_reason) LIKE ?1", [pattern]) == 0 as Int, "\(form)")
        }
        let stillKept: Int = try #require(try sent.value("SELECT COUNT(*) FROM bounce_message WHERE raw IS NOT NULL"))
        #expect(stillKept == 1, "only the message about the other supporter stays")
        #expect(try sent.value("SELECT COUNT(*) FROM bounce_message WHERE raw IS NOT NULL AND instr(CAST(raw AS TEXT), ?) > 0",
                               [Data("Undeliverable: \(other)".utf8).base64EncodedString()]) == 1 as Int)
        // Every message is still counted.
        #expect(try sent.value("SELECT COUNT(*) FROM bounce_message") == 8 + reviewed.count as Int)
    }

    @Test("random bytes, malformed MIME and a huge message are recorded with their problem, listed and kept; nothing else changes")
    func unreadable() async throws {
        let sent = try await Sent()
        var random = SeededRandom(seed: 13)
        let noise = (0..<5000).map { _ in UInt8.random(in: 0...255, using: &random) }
        let results = [
            try sent.database.ingestBounce(InboundMessage(bytes: noise, source: "noise"), policy: sent.policy),
            try sent.database.ingestBounce(InboundMessage(bytes: Fixtures.bytes("bounces/malformed.eml"), source: "malformed"), policy: sent.policy),
            try sent.database.ingestBounce(InboundMessage(bytes: Array(repeating: 0x41, count: 1000), size: 50 << 20, source: "huge"), policy: sent.policy),
        ]
        #expect(results.map(\.bounceClass) == [.unrecognized, .unrecognized, .unrecognized], "\(results)")
        #expect(results[2].problem?.contains("larger than the 10 MiB limit") == true)
        let listed = try sent.database.bounces(campaign: TestDatabase.slug)
        #expect(listed.count == 3 && listed.allSatisfy { $0.campaign == nil && $0.kept })
        #expect(try sent.database.keptBounce(id: listed[1].id) == Data(Fixtures.bytes("bounces/malformed.eml")))
        #expect(try sent.value("SELECT COUNT(*) FROM letter WHERE status <> 'sent'") == 0 as Int)
    }
}
