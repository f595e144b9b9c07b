import Foundation

/// Checks a Mustache template against a ``TemplateSchema`` before it is ever rendered.
///
/// swift-mustache renders an unknown name as an empty string; a letter must never go out with a gap,
/// so every tag is resolved here the way Mustache would resolve it, with the line it stands on.
/// Partials, inheritance, pragmas and delimiter changes are refused: a letter template stands alone
/// and can never pull in another file.
struct TemplateChecker {
    let file: String
    let schema: TemplateSchema

    private struct Section {
        let name: String
        let line: Int
        let pushesScope: Bool
    }

    /// - Returns: every problem found, each naming `file:line`.
    func problems(in source: String) -> [InputIssue] {
        var issues: [InputIssue] = []
        var scopes: [TemplateSchema] = [schema]
        var sections: [Section] = []
        var line = 1
        var rest = Substring(source)

        func report(_ message: String, at line: Int) {
            issues.append(InputIssue(InputLocation(file: file, line: line), message))
        }

        while let open = rest.range(of: "{{") {
            line += rest[..<open.lowerBound].count(where: \.isNewline)
            let tagLine = line
            let afterOpen = rest[open.upperBound...]
            let triple = afterOpen.first == "{"
            guard let close = afterOpen.range(of: triple ? "}}}" : "}}") else {
                report("a tag opened here is never closed with \(triple ? "}}}" : "}}")", at: tagLine)
                return issues
            }
            var content = afterOpen[afterOpen.startIndex..<close.lowerBound]
            line += content.count(where: \.isNewline)
            rest = afterOpen[close.upperBound...]
            if triple { content = content.dropFirst() }

            let sigil = triple ? "&" : content.first.map(String.init) ?? ""
            let body = ["#", "^", "/", "!", "&", ">", "<", "$", "=", "%"].contains(sigil) && !triple ? content.dropFirst() : content
            let name = body.trimmingCharacters(in: .whitespaces)
            switch sigil {
            case "!":
                continue
            case ">", "<", "$":
                report("partials and template inheritance are not allowed: a letter template cannot include other files", at: tagLine)
                continue
            case "=":
                report("changing the tag delimiters is not supported", at: tagLine)
                continue
            case "%":
                report("pragmas are not supported", at: tagLine)
                continue
            default:
                break
            }
            guard isValidName(name) else {
                report(name.isEmpty ? "empty tag" : "\"\(name)\" is not a variable name (transforms and spaces are not supported)", at: tagLine)
                continue
            }
            if sigil == "/" {
                guard let innermost = sections.last else {
                    report("{{/\(name)}} closes a section that was never opened", at: tagLine)
                    continue
                }
                if innermost.name != name {
                    report("{{/\(name)}} does not match {{#\(innermost.name)}} opened on line \(innermost.line)", at: tagLine)
                    continue
                }
                sections.removeLast()
                if innermost.pushesScope { scopes.removeLast() }
                continue
            }
            guard let resolved = resolve(name, in: scopes) else {
                report("unknown variable \(name)", at: tagLine)
                if sigil == "#" || sigil == "^" { sections.append(Section(name: name, line: tagLine, pushesScope: false)) }
                continue
            }
            switch sigil {
            case "#":
                let scope: TemplateSchema? = switch resolved {
                case .list(let element): element
                case .object, .text: resolved
                case .flag: nil
                }
                if let scope { scopes.append(scope) }
                sections.append(Section(name: name, line: tagLine, pushesScope: scope != nil))
            case "^":
                sections.append(Section(name: name, line: tagLine, pushesScope: false))
            default:
                switch resolved {
                case .text: break
                case .flag: report("\(name) is true or false: use it as a section, {{#\(name)}}…{{/\(name)}}", at: tagLine)
                case .list: report("\(name) is a list: use it as a section, {{#\(name)}}…{{/\(name)}}", at: tagLine)
                case .object: report("\(name) is a group of values: name one of them, such as \(name).\(firstChild(of: resolved))", at: tagLine)
                }
            }
        }
        for section in sections.reversed() {
            report("section {{#\(section.name)}} is never closed with {{/\(section.name)}}", at: section.line)
        }
        return issues
    }

    /// Resolves a dotted name as Mustache does: the first part is looked up from the innermost scope outwards.
    private func resolve(_ name: String, in scopes: [TemplateSchema]) -> TemplateSchema? {
        if name == "." { return scopes.last }
        let parts = name.split(separator: ".")
        for scope in scopes.reversed() {
            guard var found = scope.child(parts[0]) else { continue }
            for part in parts.dropFirst() {
                guard let next = found.child(part) else { return nil }
                found = next
            }
            return found
        }
        return nil
    }

    private func isValidName(_ name: String) -> Bool {
        if name == "." { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return !parts.isEmpty && parts.allSatisfy { part in
            guard let first = part.first, first.isASCII, first.isLetter || first == "_" else { return false }
            return part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        }
    }

    private func firstChild(of schema: TemplateSchema) -> String {
        if case .object(let children) = schema { return children.keys.sorted().first ?? "name" }
        return "name"
    }
}
