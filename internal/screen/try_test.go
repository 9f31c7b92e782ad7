package screen

import (
	"encoding/json"
	"os"
	"testing"
)

func TestTry(t *testing.T) {
	pairs := [][2]string{
		{"Kim Song Il", "Kim Jong Il"}, {"Jang Myong Jin", "Chang Myong Chin"}, {"Kim Chol Sam", "Jin Tiesan"},
		{"Ri Song Hyok", "Li Cheng He"}, {"Kang Mun Kil", "Jiang Wen-ji"}, {"KIM, Jong Un", "김정은"},
		{"Kim Jongun", "Gim Jeong-eun"}, {"Choe Chun Yong", "Ch’oe Ch’un-yo’ng"}, {"Ri Pyong Chul", "Ri Pyo’ng-ch’o’l"},
		{"Kim Yong Chol", "Jo Yong Chol"}, {"Chang-Su Han", "HAN JANG SU"}, {"Korea Mining Development Trading Corporation", "KOREA MINING DEVELOPMENT TRADING CORP."},
		{"Park Cheol", "Pak Chol"}, {"Lee Su Yong", "Ri Su Yong"}, {"Roh", "No"}, {"Woo", "U"},
	}
	for _, p := range pairs {
		r, err := Compare(p[0], p[1])
		if err != nil {
			t.Fatal(err)
		}
		if os.Getenv("V") != "" {
			b, _ := json.Marshal(r.Explanation)
			t.Logf("%-30s %-30s %.3f %s", p[0], p[1], r.Score, b)
		} else {
			t.Logf("%-30s %-30s %.3f %s", p[0], p[1], r.Score, r.Explanation.Mode)
		}
	}
}
