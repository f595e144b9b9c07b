import Foundation
import Mustache

/// The subject and letter templates of one language, checked and compiled.
public struct LetterTemplate: Sendable {
    public let language: String
    public let subjectSource: String
    public let letterSource: String
    let subject: MustacheTemplate
    let letter: MustacheTemplate

    /// Letters are plain text: the pragma turns off swift-mustache's default HTML escaping.
    /// On a line of its own it is a standalone tag, so it adds no text and shifts lines by one.
    private static let plainTextPragma = "{{%CONTENT_TYPE: TEXT}}\n"

    /// Checks both templates against SPEC's variable list and compiles them.
    /// - Parameters:
    ///   - subjectFile: the name used in messages, such as `subject.fr.mustache`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every unknown variable or malformed tag with its file and line.
    public init(language: String, subject: String, subjectFile: String, letter: String, letterFile: String) throws(AppealsError) {
        self.language = language
        self.subjectSource = subject
        self.letterSource = letter
        var issues = TemplateChecker(file: subjectFile, schema: .letter).problems(in: subject)
        issues += TemplateChecker(file: letterFile, schema: .letter).problems(in: letter)
        if !issues.isEmpty { throw .invalidInput(issues) }
        self.subject = try Self.compile(subject, file: subjectFile)
        self.letter = try Self.compile(letter, file: letterFile)
    }

    private static func compile(_ source: String, file: String) throws(AppealsError) -> MustacheTemplate {
        do {
            return try MustacheTemplate(string: plainTextPragma + source)
        } catch let error as MustacheTemplate.ParserError {
            throw .invalid(InputLocation(file: file, line: max(1, error.context.lineNumber - 1)), "malformed template: \(error.error)")
        } catch {
            throw .invalid(InputLocation(file: file), "malformed template: \(error)")
        }
    }

    /// Renders the subject (one line, white space folded) and the body (LF line ends, one final newline).
    func render(_ values: LetterValues) -> (subject: String, body: String) {
        let context = values.mustacheContext
        let subject = self.subject.render(context)
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        var body = letter.render(context)
        // Foundation's replace is costly and a CR is rare (only from a template file saved with CRLF).
        if body.utf8.contains(0x0D) { body = body.replacingOccurrences(of: "\r\n", with: "\n") }
        while body.hasSuffix("\n\n") { body.removeLast() }
        if !body.hasSuffix("\n") { body += "\n" }
        return (subject, body)
    }
}
