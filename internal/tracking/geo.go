package tracking

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
	"github.com/phuslu/iploc"
)

// Geo is what the location lookups found for one address. Empty strings and
// nil coordinates mean unknown; Enrich turns them into "Unknown" / null.
type Geo struct {
	Continent, Country, Region, City string
	Latitude, Longitude              *float64
}

// geoLocator answers country and continent from the embedded IP2Location LITE
// table (no setup), and everything else from an optional MaxMind city database.
type geoLocator struct {
	continents continentIndex
	city       *maxminddb.Reader // nil without --geoip-db
}

// cityRecord is the part of the GeoIP2-City layout we use. Names are decoded
// into a struct rather than a map so a lookup does not allocate a map per call.
type cityRecord struct {
	City struct {
		Names struct {
			En string `maxminddb:"en"`
		} `maxminddb:"names"`
	} `maxminddb:"city"`
	Continent struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
	} `maxminddb:"subdivisions"`
	Location struct {
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
	} `maxminddb:"location"`
}

func newGeoLocator(cityDB string) (*geoLocator, error) {
	g := &geoLocator{continents: newContinentIndex()}
	if cityDB == "" {
		return g, nil
	}
	r, err := maxminddb.Open(cityDB)
	if err != nil {
		return nil, fmt.Errorf("tracking: open geoip database %q: %w", cityDB, err)
	}
	g.city = r
	return g, nil
}

func (g *geoLocator) close() error {
	if g.city == nil {
		return nil
	}
	return g.city.Close()
}

// locate never fails: a lookup problem only means less is known.
func (g *geoLocator) locate(ip netip.Addr) Geo {
	var out Geo
	if !ip.IsValid() || !isPublic(ip) {
		return out
	}
	if cc := iploc.IPCountry(ip); isCountryCode(cc) {
		out.Country = cc
	}
	if g.city != nil {
		var rec cityRecord
		if err := g.city.Lookup(ip).Decode(&rec); err == nil {
			if isCountryCode(rec.Country.ISOCode) {
				// The operator's database is usually newer and more precise.
				out.Country = rec.Country.ISOCode
			}
			out.Continent = rec.Continent.Code
			out.City = rec.City.Names.En
			if len(rec.Subdivisions) > 0 {
				out.Region = rec.Subdivisions[0].ISOCode
			}
			out.Latitude, out.Longitude = rec.Location.Latitude, rec.Location.Longitude
			if out.Latitude == nil || out.Longitude == nil {
				out.Latitude, out.Longitude = nil, nil
			}
		}
	}
	if c := g.continents.of(out.Country); c != "" {
		out.Continent = c
	}
	if out.Country == "" {
		out.Continent = ""
	}
	return out
}

// isCountryCode accepts two upper-case letters but not the "ZZ" (unknown) and
// "-" placeholders the data sets use.
func isCountryCode(s string) bool {
	return len(s) == 2 && s != "ZZ" && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// isPublic rules out addresses no location table can place.
func isPublic(ip netip.Addr) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate()
}
