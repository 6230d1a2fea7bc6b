package tracking

import "strings"

// continentCountries lists ISO 3166-1 alpha-2 codes per continent code, with
// the assignment GeoNames (and therefore MaxMind) uses: Turkey, Georgia,
// Armenia and Azerbaijan in Asia; Russia and Cyprus in Europe; the US minor
// outlying islands in Oceania. XK is Kosovo's user-assigned code.
var continentCountries = [...]struct{ continent, countries string }{
	{"AF", "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TG TN TZ UG YT ZA ZM ZW"},
	{"AN", "AQ BV GS HM TF"},
	{"AS", "AE AF AM AZ BD BH BN BT CC CN CX GE HK ID IL IN IO IQ IR JO JP KG KH KP KR KW KZ LA LB LK MM MN MO MV MY NP OM PH PK PS QA SA SG SY TH TJ TL TM TR TW UZ VN YE"},
	{"EU", "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK"},
	{"NA", "AG AI AW BB BL BM BQ BS BZ CA CR CU CW DM DO GD GL GP GT HN HT JM KN KY LC MF MQ MS MX NI PA PM PR SV SX TC TT US VC VG VI"},
	{"OC", "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV UM VU WF WS"},
	{"SA", "AR BO BR CL CO EC FK GF GY PE PY SR UY VE"},
}

// continentIndex maps a country code to its continent code.
type continentIndex map[string]string

func newContinentIndex() continentIndex {
	m := make(continentIndex, 256)
	for _, c := range continentCountries {
		for _, cc := range strings.Fields(c.countries) {
			m[cc] = c.continent
		}
	}
	return m
}

// of returns the continent of an upper-case ISO country code, or "".
func (m continentIndex) of(country string) string { return m[country] }
