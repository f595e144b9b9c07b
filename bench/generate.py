"""Generates a benchmark campaign: the example's templates, 4 officials, 30 embassies in 30 countries, and
N supporters spread over those countries (so every supporter writes 5 letters).

  generate.py --supporters N --out DIR
"""
import argparse
import json
import os
import random
import shutil

COUNTRIES = ["FR", "GB", "DE", "BE", "CH", "US", "CA", "ES", "IT", "NL", "SE", "NO", "DK", "FI", "PL",
             "CZ", "AT", "PT", "IE", "GR", "RO", "HU", "BG", "HR", "SI", "SK", "LT", "LV", "EE", "LU"]
FIRST = ["Élodie", "Jürgen", "Siobhán", "Łukasz", "Zoë", "José", "Niccolò", "Bjørn", "Aylin", "Chloé", "Maarten", "Dana"]
LAST = ["Marchand", "Müller", "O'Brien", "Wójcik", "Schäfer", "Núñez", "Ferrari", "Håland", "Yılmaz", "Dubois", "Peeters"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--supporters", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--slug", default="bench")
    args = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    example = os.path.join(here, "..", "templates", "observatory-urgent-appeal")
    campaign = os.path.join(args.out, "campaign")
    os.makedirs(campaign, exist_ok=True)
    for name in os.listdir(example):
        if name.endswith(".mustache"):
            shutil.copy(os.path.join(example, name), campaign)
    with open(os.path.join(example, "campaign.json")) as f:
        data = json.load(f)
    data["slug"] = args.slug
    data["status"] = "active"
    with open(os.path.join(campaign, "campaign.json"), "w") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
    with open(os.path.join(example, "targets.csv")) as f:
        officials = [line for line in f.read().splitlines() if line.startswith("official,")]
    with open(os.path.join(campaign, "targets.csv"), "w") as f:
        f.write("kind,name,title,salutation,email,country,language,postal_address,fax,timezone\n")
        for line in officials:
            f.write(line + "\n")
        for code in COUNTRIES:
            f.write(f"embassy,Embassy of the Republic of Azerbaijan ({code}),Ambassador,Your Excellency,"
                    f"embassy.{code.lower()}@example.net,{code},en,,,Europe/Paris\n")
    rng = random.Random(42)
    with open(os.path.join(args.out, "supporters.csv"), "w") as f:
        f.write("name,email,country,city,language,consent,personal_note\n")
        for i in range(args.supporters):
            note = "" if i % 3 else f"\"I am writing as supporter {i}, in solidarity with Rufat Safarov.\""
            f.write(f"{rng.choice(FIRST)} {rng.choice(LAST)} {i},supporter{i}@example.net,{COUNTRIES[i % 30]},"
                    f"City {i % 97},{'fr' if i % 4 == 0 else 'en'},yes,{note}\n")


if __name__ == "__main__":
    main()
