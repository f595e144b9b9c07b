import Foundation
import Testing
import TestSupport
@testable import Mailer

@Suite("RFC 5322/2045 messages")
struct MailMessageTests {
    static let date = Date(timeIntervalSince1970: 1_795_000_000)  // Wed, 18 Nov 2026 11:06:40 +0000

    static func message(fromName: String = "Élodie Marchand via Urgent Appeals", replyName: String = "Élodie Marchand",
                        toName: String = "İlham Əliyev", subject: String = "Azerbaïdjan : libérez Rufat Safarov",
                        body: String = "Excellence,\n\nLibérez-le.\n", cc: [MailAddress] = []) throws -> MailMessage {
        try MailMessage(
            from: MailAddress(name: fromName, address: "appeals@example.org"),
            replyTo: MailAddress(name: replyName, address: "elodie@example.net"),
            to: [MailAddress(name: toName, address: "president@example.org")], cc: cc,
            subject: subject, body: body, messageID: "<fixed-1@example.org>", date: date)
    }

    @Test("the rendered bytes are exactly the reviewed fixture")
    func byteForByte() throws {
        let expected = try String(contentsOf: Fixtures.folder.appendingPathComponent("appeal-fr.eml"), encoding: .utf8)
        #expect(try Self.message().rendered() == expected)
    }

    @Test("headers come in a fixed order and the date is in English whatever the locale")
    func headerOrder() throws {
        let parsed = try PythonEmail.parse(try Self.message(cc: [MailAddress(name: "Élodie", address: "elodie@example.net")]).rendered())
        #expect(parsed.headerNames == ["Date", "From", "Reply-To", "To", "Cc", "Subject", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"])
        #expect(parsed.date == "Wed, 18 Nov 2026 11:06:40 +0000")
    }

    static let displayNames: [String] = [
        "İlham Əliyev", "Jeyhun Bayramov", "O'Brien, \"The Lawyer\" \\ Co", "山田 太郎", "Zoë 🕊️ Schäfer",
        "Şəhla Məmmədova-Əliyeva via Urgent Appeals (Bakı, Azərbaycan)", "=?UTF-8?B?SGk=?=", "A  double  space",
        "Siobhán O'Brien via Amnesty, \"Cardiff for Rights\"",
    ]

    @Test("display names survive the round trip through Python's email package", arguments: displayNames)
    func names(_ name: String) throws {
        let parsed = try PythonEmail.parse(try Self.message(toName: name).rendered())
        // Runs of spaces are folded to one: header white space is not meaningful.
        let expected = name.split(separator: " ").joined(separator: " ")
        #expect(parsed.to == [.init(name: expected, address: "president@example.org")])
        #expect(parsed.defects.isEmpty, "\(parsed.defects)")
        #expect(parsed.longestLine <= 78)
    }

    static let subjectCases: [String] = [
        "Azerbaijan: release human rights defender Rufat Safarov",
        "Azərbaycan: insan hüquqları müdafiəçisi Rüfət Səfərovu azad edin — İlham, şəhər",
        String(repeating: "Free Rufat Safarov now ", count: 12),
        String(repeating: "Səfərov ", count: 40) + "🕊️",
        "=?not an encoded word?=",
    ]

    @Test("subjects survive the round trip, folded under 78 columns", arguments: subjectCases)
    func subjects(_ subject: String) throws {
        let parsed = try PythonEmail.parse(try Self.message(subject: subject).rendered())
        #expect(parsed.subject == subject.split(separator: " ").joined(separator: " "))
        #expect(parsed.longestLine <= 78)
        #expect(parsed.bareLineBreaks == 0)
    }

    static let bodyCases: [String] = [
        "Dear Minister,\n\nRelease him.\n",
        ".\n.. leading dots\nFrom the start of a line\n>From quoted\n",
        "trailing spaces   \ntrailing tab\t\nno final newline",
        String(repeating: "x", count: 1000) + "\n" + String(repeating: "ə", count: 500) + "\n",
        "emoji 🕊️ and = signs == and =3D\n",
        "NUL \u{0} and bell \u{7} kept as data\n",
    ]

    @Test("bodies decode to exactly the letter (LF line ends), lines at most 76", arguments: bodyCases)
    func bodies(_ body: String) throws {
        let rendered = try Self.message(body: body).rendered()
        let parsed = try PythonEmail.parse(rendered)
        let expected = body.hasSuffix("\n") ? body : body + "\n"
        #expect(parsed.body == expected)
        #expect(parsed.longestLine <= 78)
        #expect(parsed.bareLineBreaks == 0)
        #expect(parsed.charset == "utf-8")
        // No line of the body may start with a dot or "From " on the wire.
        let bodyLines = rendered.components(separatedBy: "\r\n\r\n").dropFirst().joined().components(separatedBy: "\r\n")
        #expect(bodyLines.allSatisfy { !$0.hasPrefix(".") && !$0.hasPrefix("From ") })
    }

    @Test("CR, LF or NUL in a name or subject adds no header and no recipient")
    func headerInjection() throws {
        let message = try Self.message(
            fromName: "Eve\r\nBcc: x@example.net via Urgent Appeals", replyName: "Eve\r\nBcc: x@example.net",
            toName: "Target\nCc: y@example.net", subject: "Hello\r\nBcc: z@example.net\u{0}")
        let parsed = try PythonEmail.parse(message.rendered())
        #expect(parsed.headerNames == ["Date", "From", "Reply-To", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"])
        #expect(parsed.bcc.isEmpty && parsed.cc.isEmpty)
        #expect(parsed.to.map(\.address) == ["president@example.org"])
        #expect(parsed.replyTo.map(\.address) == ["elodie@example.net"])
        #expect(parsed.subject == "Hello Bcc: z@example.net")
        #expect(message.recipients == ["president@example.org"])
    }

    static let badAddressCases = ["eve@example.org\r\nRCPT TO:<x@example.net>", "a@example.org, b@example.net", "<a@example.org>", "a b@example.org", "nobody"]

    @Test("an address that could add a recipient is refused", arguments: badAddressCases)
    func badAddress(_ address: String) {
        #expect(throws: MailerError.self) {
            try MailMessage(from: MailAddress(address: "appeals@example.org"), replyTo: MailAddress(address: address),
                            to: [MailAddress(address: "t@example.org")], subject: "s", body: "b", messageID: "<m@example.org>", date: Self.date)
        }
    }
}
