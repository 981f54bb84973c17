package netrules

import (
	"encoding/json"
	"strings"
	"testing"
)

var testPools = []Pool{
	{Name: "local", Location: "local", Kind: PoolPublic, EgressPrefixes: []string{"127.0.1.0/24"}},
	{Name: "local2", Location: "LOCAL", Kind: PoolPublic, EgressPrefixes: []string{"127.0.2.10", " 127.0.1.9/24 ", "10.9.0.0/16"}},
	{Name: "mine", Location: "local", Kind: PoolDedicated, EgressPrefixes: []string{"127.0.7.0/24"}},
	{Name: "west", Location: "westeurope", Kind: PoolPublic, EgressPrefixes: []string{"127.0.5.0/24"}},
}

func TestServiceTagsJSON(t *testing.T) {
	tags := ServiceTags("local", testPools)
	b, err := json.Marshal(map[string]any{"values": tags})
	if err != nil {
		t.Fatal(err)
	}
	// Dedicated pools and other regions are left out; prefixes are CIDRs,
	// deduplicated and in address order.
	want := `{"values":[{"id":"BerthTasks.local","name":"BerthTasks.local","properties":{"region":"local","addressPrefixes":["10.9.0.0/16","127.0.1.0/24","127.0.2.10/32"],"changeNumber":` +
		itoa(tags[0].Properties.ChangeNumber) + `}}]}`
	if string(b) != want {
		t.Errorf("JSON =\n%s\nwant\n%s", b, want)
	}
	if tags[0].Properties.ChangeNumber <= 0 {
		t.Errorf("changeNumber = %d, want positive", tags[0].Properties.ChangeNumber)
	}

	// The seed's query, values[?id=='BerthTasks.local'].properties.addressPrefixes[],
	// walks exactly these keys.
	var doc struct {
		Values []struct {
			ID         string `json:"id"`
			Properties struct {
				AddressPrefixes []string `json:"addressPrefixes"`
			} `json:"properties"`
		} `json:"values"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Values) != 1 || doc.Values[0].ID != "BerthTasks.local" || strings.Join(doc.Values[0].Properties.AddressPrefixes, "\t") != "10.9.0.0/16\t127.0.1.0/24\t127.0.2.10/32" {
		t.Errorf("the query's path gives %+v", doc)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestServiceTagsRegions(t *testing.T) {
	west := ServiceTags(" westeurope ", testPools)
	if len(west) != 1 || west[0].ID != "BerthTasks.westeurope" || west[0].Properties.Region != "westeurope" || strings.Join(west[0].Properties.AddressPrefixes, ",") != "127.0.5.0/24" {
		t.Errorf("westeurope tags = %+v", west)
	}
	for _, region := range []string{"nowhere", ""} {
		got := ServiceTags(region, testPools)
		if got == nil || len(got) != 0 {
			t.Errorf("ServiceTags(%q) = %#v, want an empty non-nil slice", region, got)
		}
		if b, _ := json.Marshal(got); string(b) != "[]" {
			t.Errorf("ServiceTags(%q) marshals to %s, want []", region, b)
		}
	}
	// A public pool with no prefixes yet still has its tag, with [] not null.
	empty := ServiceTags("north", []Pool{{Name: "n", Location: "north", Kind: PoolPublic}})
	if b, _ := json.Marshal(empty); !strings.Contains(string(b), `"addressPrefixes":[]`) {
		t.Errorf("empty pool tag = %s, want addressPrefixes []", b)
	}
}

func TestServiceTagsChangeNumber(t *testing.T) {
	a := ServiceTags("local", testPools)[0].Properties.ChangeNumber
	reordered := []Pool{testPools[1], testPools[3], testPools[0]}
	if b := ServiceTags("local", reordered)[0].Properties.ChangeNumber; b != a {
		t.Errorf("changeNumber depends on pool order: %d vs %d", a, b)
	}
	changed := append([]Pool(nil), testPools...)
	changed[0].EgressPrefixes = []string{"127.0.1.0/25"}
	if c := ServiceTags("local", changed)[0].Properties.ChangeNumber; c == a {
		t.Errorf("changeNumber did not change with the prefixes: %d", c)
	}
}

func TestPoolValidate(t *testing.T) {
	for _, p := range testPools {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
	for _, c := range []struct {
		p    Pool
		want string
	}{
		{Pool{Name: "a", Location: "local", Kind: "Public"}, `kind "Public"`},
		{Pool{Name: "b", Location: " ", Kind: PoolPublic}, "location is empty"},
		{Pool{Name: "c", Location: "local", Kind: PoolPublic, EgressPrefixes: []string{"127.0.1.0/24", "fd00::/8"}}, "IPv4 only"},
		{Pool{Name: "d", Location: "local", Kind: PoolPublic, EgressPrefixes: []string{"127.0.1.0/33"}}, `"127.0.1.0/33"`},
	} {
		err := c.p.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `agent pool "`+c.p.Name+`"`) {
			t.Errorf("Validate(%+v) = %v, want an error naming the pool and containing %q", c.p, err, c.want)
		}
	}
}
