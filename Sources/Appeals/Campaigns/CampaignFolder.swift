import Foundation

/// Everything `campaign create` reads from a campaign folder, checked as a whole.
public struct CampaignFolder: Sendable {
    public var campaign: Campaign
    public var templates: [LetterTemplate]
    /// `targets.csv`, parsed but not yet tied to a stored campaign.
    public var targets: CSVTable

    /// Reads `campaign.json`, one `subject.<lang>.mustache` and `letter.<lang>.mustache` pair per language,
    /// and `targets.csv` from `path`.
    /// - Throws: ``AppealsError/invalidInput(_:)`` listing every problem in every file of the folder.
    public init(path: String, now: Date = Date()) throws(AppealsError) {
        let folder = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .invalid(InputLocation(file: path), "is not a campaign folder")
        }
        func file(_ name: String) -> String { folder.appendingPathComponent(name).path }
        func read(_ name: String) throws(AppealsError) -> Data {
            try RegularFile.contents(file(name))
        }

        var issues: [InputIssue] = []
        var campaign: Campaign?
        do throws(AppealsError) {
            campaign = try Campaign.fromJSON(try read("campaign.json"), file: file("campaign.json"), now: now)
        } catch {
            issues += error.issues
        }

        var templates: [LetterTemplate] = []
        let listed = campaign?.languages ?? []
        for language in listed {
            do throws(AppealsError) {
                let subjectName = "subject.\(language).mustache", letterName = "letter.\(language).mustache"
                var texts: [String] = []
                for name in [subjectName, letterName] {
                    guard let text = String(data: try read(name), encoding: .utf8) else {
                        throw AppealsError.invalid(InputLocation(file: file(name)), "is not valid UTF-8")
                    }
                    if text.allSatisfy(\.isWhitespace) {
                        throw AppealsError.invalid(InputLocation(file: file(name)), "is empty: a letter needs a subject and a text")
                    }
                    texts.append(text)
                }
                templates.append(try LetterTemplate(language: language, subject: texts[0], subjectFile: file(subjectName),
                                                    letter: texts[1], letterFile: file(letterName)))
            } catch {
                issues += error.issues
            }
        }
        // A template for a language the campaign does not list would never be used: say so rather than ignore it.
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for entry in entries.sorted() where entry.hasSuffix(".mustache") {
            let parts = entry.split(separator: ".")
            guard parts.count == 3, ["subject", "letter"].contains(parts[0]) else {
                issues.append(InputIssue(InputLocation(file: file(entry)), "unexpected template; expected subject.<lang>.mustache or letter.<lang>.mustache"))
                continue
            }
            if campaign != nil && !listed.contains(String(parts[1])) {
                issues.append(InputIssue(InputLocation(file: file(entry)), "language \(parts[1]) is not listed in campaign.json \"languages\""))
            }
        }

        var targets: CSVTable?
        do throws(AppealsError) {
            targets = try CSVTable(path: file("targets.csv"), known: Target.csvColumns, required: Target.csvRequiredColumns)
        } catch {
            issues += error.issues
        }
        if let targets {
            let (parsed, problems) = Target.parse(targets, campaignId: 0)
            issues += problems
            issues += Target.missingSalutations(parsed, file: targets.file, templates: templates.flatMap { [$0.subjectSource, $0.letterSource] })
        }

        guard issues.isEmpty, let campaign, let targets else { throw .invalidInput(issues) }
        self.campaign = campaign
        self.templates = templates
        self.targets = targets
    }

    /// The folder's targets (checked when it was read), for the campaign stored with id `campaignId`.
    public func parsedTargets(campaignId: Int64) -> [Target] {
        Target.parse(targets, campaignId: campaignId).targets.map(\.target)
    }
}

extension AppealsError {
    /// The input problems this error carries, or one issue holding its description.
    var issues: [InputIssue] {
        if case .invalidInput(let issues) = self { return issues }
        return [InputIssue(InputLocation(file: "(campaign)"), description)]
    }
}
