import Foundation
import Mustache

/// The subject and letter templates of one language, checked and compiled.
public struct LetterTemplate: Sendable {
    public let language: String
    public let subjectSource: String
    public let letterSource: String
    let subject: TemplatePieces
    let letter: TemplatePieces

    /// Checks both templates against the documented variables and compiles them.
    /// - Parameters:
    ///   - subjectFile: the name used in messages, such as `subject.fr.mustache`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every unknown variable or malformed tag with its file and line.
    public init(language: String, subject: String, subjectFile: String, letter: String, letterFile: String) throws(AppealsError) {
        self.language = language
        self.subjectSource = subject
        self.letterSource = letter
        let subjectCheck = TemplateChecker(file: subjectFile, schema: .letter).check(subject)
        let letterCheck = TemplateChecker(file: letterFile, schema: .letter).check(letter)
        let issues = subjectCheck.issues + letterCheck.issues
        if !issues.isEmpty { throw .invalidInput(issues) }
        self.subject = try TemplatePieces(subject, cuts: subjectCheck.cuts, file: subjectFile)
        self.letter = try TemplatePieces(letter, cuts: letterCheck.cuts, file: letterFile)
    }

    /// Whether a source holds a skeleton's marker: its letters are then always rendered in full.
    var holdsMarker: Bool { LetterSkeleton.holdsMarker(subjectSource) || LetterSkeleton.holdsMarker(letterSource) }

    /// Renders the subject (one line, white space folded) and the body (LF line ends, one final newline).
    func render(_ values: LetterValues) -> (subject: String, body: String) {
        let context = values.mustacheContext
        return Self.finish(subject: subject.render(context), body: letter.render(context))
    }

    /// Both templates rendered with holes for the supporter's values present in `values`.
    func skeletons(_ values: LetterValues) -> (subject: LetterSkeleton, body: LetterSkeleton) {
        var values = values
        values.supporter = LetterSkeleton.markerValues(present: values.presentSupporterFields)
        let context = values.mustacheContext
        return (LetterSkeleton(rendered: subject.render(context)), LetterSkeleton(rendered: letter.render(context)))
    }

    /// What swift-mustache rendered, made a subject and a body.
    static func finish(subject: String, body: String) -> (subject: String, body: String) {
        let subject = folded(subject)
        var body = body
        // Foundation's replace is costly and a CR is rare (only from a template file saved with CRLF).
        if holdsCR(body) { body = body.replacingOccurrences(of: "\r\n", with: "\n") }
        while body.hasSuffix("\n\n") { body.removeLast() }
        if !body.hasSuffix("\n") { body += "\n" }
        return (subject, body)
    }

    /// `text` with every run of white space made one space, and none at either end.
    ///
    /// Folded by bytes where that is sure to match ``foldedByCharacters(_:)``: ASCII white space, and no
    /// byte that can begin other white space (U+0085, U+00A0, U+1680, U+2000…U+205F, U+3000) or a space
    /// followed by a non-ASCII character (a combining mark makes a space and the mark one character).
    static func folded(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var spaceBefore = false
        var previous: UInt8 = 0
        for byte in text.utf8 {
            switch byte {
            case 0xC2, 0xE1, 0xE2, 0xE3: return foldedByCharacters(text)
            case 0x80... where previous == 0x20: return foldedByCharacters(text)
            case 0x09...0x0D, 0x20: spaceBefore = !bytes.isEmpty
            default:
                if spaceBefore { bytes.append(0x20) }
                spaceBefore = false
                bytes.append(byte)
            }
            previous = byte
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func foldedByCharacters(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    private static func holdsCR(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            guard let start = bytes.baseAddress else { return false }
            return memchr(start, 0x0D, bytes.count) != nil
        } ?? text.utf8.contains(0x0D)
    }
}

/// A template compiled in pieces cut where ``TemplateChecker`` found it safe: swift-mustache's parser takes
/// time in the square of its input's size, pieces keep it linear in the template's. Rendered one after the other.
struct TemplatePieces: Sendable {
    let pieces: [MustacheTemplate]

    /// Letters are plain text: the pragma turns off swift-mustache's default HTML escaping.
    /// On a line of its own it is a standalone tag, so it adds no text and shifts lines by one.
    private static let plainTextPragma = "{{%CONTENT_TYPE: TEXT}}\n"

    init(_ source: String, cuts: [Int], file: String) throws(AppealsError) {
        let bytes = Array(source.utf8)
        var pieces: [MustacheTemplate] = []
        var line = 0
        for (start, end) in zip([0] + cuts, cuts + [bytes.count]) {
            let piece = bytes[start..<end]
            do {
                pieces.append(try MustacheTemplate(string: Self.plainTextPragma + String(decoding: piece, as: UTF8.self)))
            } catch let error as MustacheTemplate.ParserError {
                throw .invalid(InputLocation(file: file, line: line + max(1, error.context.lineNumber - 1)), "malformed template: \(error.error)")
            } catch {
                throw .invalid(InputLocation(file: file), "malformed template: \(error)")
            }
            line += piece.count(where: { $0 == 0x0A })
        }
        self.pieces = pieces
    }

    func render(_ context: Any) -> String {
        pieces.count == 1 ? pieces[0].render(context) : pieces.map { $0.render(context) }.joined()
    }
}
