import Foundation
import Testing
import TestSupport
@testable import Mailer

@Suite("Hostile input in messages")
struct HostileInputTests {
    static let headerNames = ["Date", "From", "Reply-To", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"]

    /// What a header value becomes: control characters are spaces, runs of spaces one space.
    /// By scalars: the byte-level shortcut in ``HeaderEncoding/sanitized(_:)`` must agree with it.
    static func expectedHeader(_ text: String) -> String { HeaderEncoding.sanitizedByScalars(text) }

    @Test("header values left as they are by the byte-level check are exactly what sanitizing by scalars gives")
    func sanitizedShortcut() {
        var random = SeededRandom(seed: 11)
        let samples = ["", " ", "a", "a b", " a", "a ", "a  b", "a\u{85}b", "a\u{9F}b", "a\u{A0}b", "a \u{301}b", " \u{301}", "x\u{7F}"]
            + (0..<3000).map { _ in HostileText.make(&random, maxPieces: 8) }
        for text in samples {
            #expect(Array(HeaderEncoding.sanitized(text).utf8) == Array(HeaderEncoding.sanitizedByScalars(text).utf8), "\(text.debugDescription)")
        }
    }

    /// What the body decodes to: every CRLF, CR or LF one LF, and one final newline. By scalars: a CR
    /// followed by a combining mark is still a line break.
    static func expectedBody(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            if scalar == "\n" && previousWasCR { continue }
            scalars.append(scalar == "\r" ? "\n" : scalar)
        }
        var body = String(scalars)
        if body.unicodeScalars.last != "\n" { body += "\n" }
        return body
    }

    static func squeezed(_ text: String?) -> String {
        String((text ?? "<none>").unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init))
    }

    @Test("300 random hostile messages parse with Python's email package, with exactly the intended recipients, headers and body")
    func randomMessages() throws {
        var random = SeededRandom(seed: 20_261_123)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var cases: [(name: String, target: String, subject: String, body: String, file: URL)] = []
        for index in 0..<300 {
            let name = HostileText.make(&random, maxPieces: 12)
            let target = HostileText.make(&random, maxPieces: 6)
            let subject = HostileText.make(&random, maxPieces: 20)
            let body = HostileText.make(&random, maxPieces: 60)
            let message = try MailMessage(
                from: MailAddress(name: "\(name) via Urgent Appeals", address: "appeals@example.org"),
                replyTo: MailAddress(name: name, address: "supporter@example.net"),
                to: [MailAddress(name: target, address: "target@example.org")],
                subject: subject, body: body, messageID: "<hostile-\(index)@example.org>", date: Date(timeIntervalSince1970: 1_795_000_000))
            let file = folder.appendingPathComponent("\(index).eml")
            try Data(message.rendered().utf8).write(to: file)
            cases.append((name, target, subject, body, file))
        }
        let parsed = try PythonEmail.parse(files: cases.map(\.file))
        for (testCase, message) in zip(cases, parsed) {
            let context = "case \(testCase.file.lastPathComponent): name \(testCase.name.debugDescription) subject \(testCase.subject.debugDescription)"
            #expect(message.headerNames == Self.headerNames, "\(context)")
            #expect(message.to.map(\.address) == ["target@example.org"], "\(context)")
            #expect(message.replyTo.map(\.address) == ["supporter@example.net"], "\(context)")
            #expect(message.from.map(\.address) == ["appeals@example.org"], "\(context)")
            #expect(message.cc.isEmpty && message.bcc.isEmpty, "\(context)")
            // A display name too long for one encoded-word needs adjacent encoded-words, and Python keeps the
            // white space between them that RFC 2047 (6.2) drops: names are compared without white space.
            #expect(Self.squeezed(message.from.first?.name) == Self.squeezed(Self.expectedHeader("\(testCase.name) via Urgent Appeals")), "\(context)")
            #expect(Self.squeezed(message.to.first?.name) == Self.squeezed(Self.expectedHeader(testCase.target)), "\(context)")
            #expect(message.subject == Self.expectedHeader(testCase.subject), "\(context)")
            #expect(message.body == Self.expectedBody(testCase.body), "\(context) got \(message.body.debugDescription) want \(Self.expectedBody(testCase.body).debugDescription)")
            #expect(message.defects.isEmpty, "\(context): \(message.defects)")
            #expect(message.bareLineBreaks == 0 && message.longestLine <= 78, "\(context)")
        }
    }
}
