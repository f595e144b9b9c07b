import Appeals
import Foundation

/// The values the campaign page's and the preview's templates show, in the page's language.
struct CampaignPage {
    let site: WebSite
    let campaign: Campaign
    let language: String
    let now: Date

    private var texts: [String: String] { site.pages.texts(language) }

    /// Values every page of the campaign has.
    private var common: [String: Any] {
        ["lang": language, "t": texts, "campaign": campaignValues]
    }

    private var campaignValues: [String: Any] {
        var values: [String: Any] = ["slug": campaign.slug, "title": campaign.title, "organization": campaign.organization]
        values["deadline"] = campaign.deadline
        return values
    }

    func context(targets: [Target], form: SupporterForm, issues: [InputIssue], csrf: String) -> [String: Any] {
        var context = common
        context["pageTitle"] = campaign.title
        context["summary"] = campaign.summary.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        context["demands"] = campaign.demands(in: language)
        context["deadlineText"] = campaign.deadline.flatMap(deadlineText)
        context["officials"] = Targeting(targets).officials.map { ["name": $0.name, "title": $0.title] }
        let links = campaign.languages.map { code -> [String: Any] in
            ["code": code, "name": PageLanguage.name(of: code), "current": code == language, "url": "/c/\(campaign.slug)?lang=\(code)"]
        }
        context["languageLinks"] = links
        context["hasLanguageLinks"] = links.count > 1
        context["closed"] = closedText
        context["closedHeading"] = campaign.status == .paused ? texts["pausedHeading"] : texts["closedHeading"]
        context["csrf"] = csrf
        context["form"] = formValues(form)
        let country = form.country.uppercased()
        context["countries"] = site.countries.countries(in: language).map { ["code": $0.code, "name": $0.name, "selected": $0.code == country] }
        let letterLanguage = form.language.isEmpty ? language : form.language
        context["letterLanguages"] = campaign.languages.map { ["code": $0, "name": PageLanguage.name(of: $0), "selected": $0 == letterLanguage] }
        let labels = ["name": texts["name"]!, "email": texts["email"]!, "country": texts["country"]!, "city": texts["city"]!,
                      "language": texts["language"]!, "personal_note": texts["note"]!, "consent": texts["consentShort"]!]
        context["errors"] = issues.map { issue -> [String: Any] in
            let field = issue.location.field ?? "name"
            return ["field": field, "label": labels[field] ?? field, "message": issue.message]
        }
        context["hasErrors"] = !issues.isEmpty
        context["fieldErrors"] = Dictionary(issues.map { ($0.location.field ?? "", true) }, uniquingKeysWith: { first, _ in first })
        return context
    }

    func previewContext(letters: [(target: Target, letter: RenderedLetter)], supporter: Supporter, form: SupporterForm, csrf: String) -> [String: Any] {
        var context = common
        context["pageTitle"] = texts["previewHeading"]
        context["letters"] = letters.map { item -> [String: Any] in
            ["targetName": item.target.name, "targetTitle": item.target.title, "subject": item.letter.subject, "body": item.letter.body]
        }
        context["noEmbassy"] = !letters.contains { $0.target.kind == .embassy }
        context["form"] = formValues(form)
        context["csrf"] = csrf
        return context
    }

    /// Why the campaign takes no letters now, or `nil` when it does.
    var closedText: String? {
        switch campaign.status {
        case .paused: texts["pausedText"]
        case .closed, .draft: texts["closedText"]
        case .active: campaign.deadlinePassed(at: now) ? texts["deadlineText"] : nil
        }
    }

    private func formValues(_ form: SupporterForm) -> [String: Any] {
        ["name": form.name, "email": form.email, "country": form.country, "city": form.city, "language": form.language,
         "personalNote": form.personalNote, "consent": form.consent]
    }

    private func deadlineText(_ deadline: String) -> String? {
        guard let date = Campaign.utcDay.date(from: deadline) else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: language)
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateStyle = .long
        return formatter.string(from: date)
    }
}
