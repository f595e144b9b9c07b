import Foundation

/// Collects the problems of one CSV row, each naming its line and column.
struct RowChecker {
    let row: CSVTable.Row
    let file: String
    private(set) var issues: [InputIssue] = []

    init(_ row: CSVTable.Row, file: String) {
        self.row = row
        self.file = file
    }

    mutating func fail(_ column: String, _ message: String) {
        issues.append(InputIssue(InputLocation(file: file, line: row.line > 0 ? row.line : nil, field: column), message))
    }

    /// A one-line text value; `required` ones must not be empty.
    mutating func text(_ column: String, required: Bool = false, maxLength: Int = 200) -> String {
        let value = row[column]
        if value.isEmpty {
            if required { fail(column, "is required") }
            return ""
        }
        if let problem = TextRules.singleLineProblem(value, maxLength: maxLength) { fail(column, problem) }
        return value
    }

    /// A multi-line text value, line ends folded to LF; `nil` when empty.
    mutating func paragraph(_ column: String, maxLength: Int) -> String? {
        let value = TextRules.normalizedParagraph(row.raw(column))
        if value.isEmpty { return nil }
        if let problem = TextRules.paragraphProblem(value, maxLength: maxLength) { fail(column, problem) }
        return value
    }

    mutating func email(_ column: String) -> String {
        let value = row[column]
        if value.isEmpty {
            fail(column, "is required")
        } else if let problem = EmailAddress.problem(with: value) {
            fail(column, problem)
        }
        return value
    }

    mutating func country(_ column: String, required: Bool = false) -> String? {
        let value = row[column]
        if value.isEmpty {
            if required { fail(column, "is required") }
            return nil
        }
        guard let code = CountryCode.normalize(value) else {
            fail(column, "\"\(value)\" is not an ISO 3166-1 alpha-2 country code (such as FR, AZ, US)")
            return nil
        }
        return code
    }

    mutating func language(_ column: String) -> String? {
        let value = row[column]
        if value.isEmpty { return nil }
        guard let tag = TextRules.normalizedLanguage(value) else {
            fail(column, "\"\(value)\" is not a language code (such as en, fr, pt-BR)")
            return nil
        }
        return tag
    }
}
