package screen

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// hanjaReadings lists, for common syllables of Korean names, the hanja they
// are usually written with and the Mandarin (pinyin) reading of each. Lists
// and passports give Chinese aliases of Korean people by reading the hanja of
// the name in Mandarin (UN: Kim Chol Sam a.k.a. Jin Tiesan: 金鐵三). Keys are
// romanized syllables; spellings that romanize the same sound are merged
// through their canonical key (so "jong" holds both 정 and 종).
var hanjaReadings = map[string]string{
	// family names
	"kim": "金jin", "ri": "李li 利li 理li 伊yi", "pak": "朴piao", "choe": "崔cui", "jong": "鄭zheng 正zheng 貞zhen 政zheng 廷ting 丁ding 晶jing 精jing 靜jing 鍾zhong 宗zong 鐘zhong 琮cong",
	"kang": "姜jiang 康kang 江jiang 剛gang 強qiang 綱gang", "jang": "張zhang 章zhang 長chang 將jiang 莊zhuang 昌chang 彰zhang 倉cang 蒼cang",
	"jo": "趙zhao 曺cao 曹cao 朝chao 祖zu 照zhao 兆zhao 草cao 超chao 初chu", "yun": "尹yin 允yun 潤run 倫lun", "han": "韓han 漢han 翰han",
	"rim": "林lin 任ren 壬ren", "o": "吳wu 五wu 午wu 魚yu 語yu", "sin": "申shen 辛xin 信xin 新xin 愼shen 神shen 臣chen",
	"so": "徐xu 瑞rui 西xi 蘇su 小xiao 素su 昭zhao 召zhao 所suo", "kwon": "權quan", "hwang": "黃huang 皇huang", "an": "安an 晏yan",
	"song": "宋song 松song 成cheng 星xing 聖sheng 誠cheng 城cheng 盛sheng 性xing 承cheng 勝sheng 昇sheng 崇chong 聲sheng",
	"ryu":  "柳liu 劉liu 流liu 兪yu 有you 裕yu 維wei 柔rou 儒ru 留liu", "hong": "洪hong 弘hong 紅hong", "jon": "全quan 田tian 錢qian 電dian 典dian 戰zhan 前qian 展zhan 轉zhuan 千qian 天tian 川chuan 泉quan 存cun 尊zun",
	"ko": "高gao 古gu 固gu 皐gao", "mun": "文wen 門men 聞wen 汶wen", "son": "孫sun 善shan 宣xuan 鮮xian 先xian 仙xian 選xuan",
	"yang": "梁liang 楊yang 良liang 亮liang 陽yang 洋yang", "pae": "裵pei 培pei 倍bei", "paek": "白bai 百bai 伯bo 柏bai",
	"ho": "許xu 浩hao 虎hu 鎬hao 昊hao 湖hu 好hao 豪hao 胡hu 鎬hao 皓hao 虛xu", "nam": "南nan 男nan", "sim": "沈shen 心xin 深shen",
	"ro": "盧lu 魯lu 路lu 老lao 露lu", "ha": "河he 夏xia 下xia 何he", "ju": "朱zhu 周zhou 柱zhu 珠zhu 主zhu 注zhu 中zhong",
	"ku": "具ju 九jiu 求qiu 邱qiu 丘qiu 久jiu 救jiu", "min": "閔min 民min 敏min 珉min", "jin": "陳chen 眞zhen 晉jin 鎭zhen 振zhen 珍zhen 進jin 秦qin 辰chen",
	"ji": "池chi 智zhi 志zhi 地di 知zhi 枝zhi 芝zhi", "om": "嚴yan", "chae": "蔡cai 采cai 彩cai", "won": "元yuan 源yuan 遠yuan 原yuan 圓yuan 院yuan 願yuan",
	"pang": "方fang 房fang 邦bang", "kong": "孔kong 公gong 功gong 工gong", "hyon": "玄xuan 賢xian 鉉xuan 顯xian 炫xuan 縣xian 弦xian",
	"ham": "咸xian 含han", "pyon": "卞bian 邊bian 片pian 便bian", "ryom": "廉lian 念nian", "ryo": "呂lv 余yu 麗li 如ru 汝ru 餘yu",
	"chu": "秋qiu 周zhou 朱zhu 主zhu 柱zhu 珠zhu 鄒zou", "to": "都du 道dao 陶tao 度du 桃tao 土tu", "sok": "石shi 錫xi 碩shuo 奭shi 昔xi",
	"sol": "薛xue 雪xue 說shuo", "ma": "馬ma 麻ma", "kil": "吉ji", "ryon": "延yan 蓮lian 連lian 演yan 燕yan 然ran 淵yuan 硏yan",
	"wi": "魏wei 偉wei 衛wei 韋wei 威wei", "pyo": "表biao", "myong": "明ming 命ming 銘ming 鳴ming", "ki": "奇qi 基ji 起qi 琦qi 其qi 箕ji 紀ji 氣qi 記ji 技ji",
	"pan": "潘pan 班ban 判pan 盤pan", "wang": "王wang 旺wang", "kum": "琴qin 金jin 錦jin 今jin 琴qin", "ok": "玉yu 屋wu",
	"ryuk": "陸lu 六liu 育yu", "in": "印yin 仁ren 寅yin 因yin", "maeng": "孟meng", "je": "諸zhu 濟ji 齊qi 帝di 第di",
	"mo": "牟mou 毛mao 模mo 慕mu", "tak": "卓zhuo 鐸duo", "kuk": "國guo 鞠ju 菊ju", "un": "殷yin 恩en 銀yin 隱yin 雲yun 運yun 云yun",
	"ryong": "龍long 容rong 勇yong 用yong 溶rong 英ying 永yong 榮rong 泳yong 寧ning 玲ling 令ling 領ling 靈ling 營ying 映ying",
	"ye":    "芮rui 禮li 藝yi", "kyong": "京jing 慶qing 景jing 敬jing 卿qing 經jing 鏡jing 耕geng 庚geng 炅jiong 瓊qiong",
	"pong": "奉feng 鳳feng 峰feng 逢feng 蓬peng", "sa": "史shi 師shi 四si 士shi 思si 沙sha", "pu": "夫fu 富fu 扶fu 府fu 部bu",
	// given-name syllables
	"chol": "鐵tie 哲zhe 喆zhe 澈che 徹che 撤che", "sam": "三san 森sen 參can 杉shan", "il": "一yi 日ri 逸yi 溢yi",
	"hyok": "赫he 革ge 爀he 奕yi", "su": "洙zhu 秀xiu 守shou 壽shou 水shui 修xiu 樹shu 洙zhu 首shou 受shou 手shou 秀xiu",
	"jun": "俊jun 準zhun 峻jun 駿jun 濬jun 中zhong 重zhong 仲zhong 忠zhong 春chun 增zeng", "kwang": "光guang 廣guang 匡kuang", "hak": "學xue 鶴he",
	"sik": "植zhi 式shi 湜shi 息xi 識shi 殖zhi", "se": "世shi 洗xi 細xi 勢shi", "kon": "建jian 健jian 乾qian 坤kun 坤kun 根gen 權quan",
	"man": "萬wan 滿man 晩wan", "san": "山shan 産chan", "sang": "相xiang 尙shang 祥xiang 上shang 商shang 常chang 翔xiang 想xiang",
	"ung": "雄xiong 應ying 鷹ying", "chun": "春chun 俊jun 準zhun", "hwa": "花hua 和he 華hua 化hua 火huo 話hua",
	"hwan": "煥huan 桓huan 換huan 環huan 歡huan", "hui": "熙xi 喜xi 姬ji 輝hui 徽hui 希xi 禧xi 稀xi",
	"jae": "在zai 載zai 才cai 材cai 宰zai 再zai 財cai", "u": "宇yu 雨yu 佑you 友you 祐you 于yu 牛niu 羽yu 又you",
	"sun": "順shun 淳chun 純chun 舜shun 順shun 荀xun 筍sun", "suk": "淑shu 肅su 叔shu 熟shu", "mi": "美mei 米mi 味wei 微wei 眉mei",
	"hye": "惠hui 慧hui 惠hui", "hun": "勳xun 訓xun 熏xun 薰xun 焄xun", "tae": "泰tai 太tai 台tai 大da 代dai 泰tai 兌dui",
	"tong": "東dong 童tong 東dong 同tong 洞dong 桐tong 棟dong", "kyu": "奎kui 圭gui 揆kui 珪gui 規gui", "kun": "根gen 君jun 軍jun 群qun 根gen 近jin 勤qin",
	"pil": "弼bi 必bi 筆bi", "pom": "範fan 範fan 凡fan 汎fan 範fan", "uk": "旭xu 昱yu 郁yu 煜yu", "po": "寶bao 保bao 普pu 甫fu 輔fu 步bu 布bu 浦pu",
	"pok": "福fu 復fu 馥fu", "tok": "德de 得de", "ran": "蘭lan 欄lan", "rin": "麟lin 隣lin", "rok": "祿lu 綠lv 錄lu",
	"hyop": "協xie 俠xia", "hyong": "亨heng 炯jiong 兄xiong 衡heng 馨xin 螢ying 形xing 型xing", "hung": "興xing 洪hong",
	"sop": "燮xie 涉she 攝she", "hae": "海hai 解xie 亥hai", "ae": "愛ai 哀ai", "ik": "益yi 翼yi 翊yi", "ui": "義yi 毅yi 宜yi 意yi 儀yi 誼yi",
	"kap": "甲jia", "pyong": "平ping 坪ping 炳bing 秉bing 丙bing 兵bing 柄bing 評ping 屛ping", "chan": "燦can 贊zan 讚zan 纘zuan",
	"chang": "昌chang 彰zhang 倉cang 滄cang 蒼cang 暢chang 唱chang 創chuang 張zhang 章zhang 長chang", "chil": "七qi 漆qi",
	"taek": "澤ze 宅zhai 擇ze", "hang": "恒heng 杭hang 航hang 項xiang", "hyo": "孝xiao 曉xiao 效xiao", "hwi": "輝hui 徽hui 揮hui",
	"sil": "實shi 室shi", "a": "雅ya 亞ya 阿a", "ak": "岳yue 樂le", "on": "彦yan 言yan 彦yan", "yop": "燁ye 葉ye 曄ye",
	"wan": "完wan 琓wan 玩wan", "yo": "堯yao 耀yao 要yao 姚yao 瑤yao 呂lv 余yu 麗li 如ru 汝ru", "wol": "月yue 越yue",
	"yul": "律lv 率lv 栗li", "ul": "乙yi", "ja": "子zi 慈ci 滋zi 字zi 紫zi 資zi 自zi", "jom": "點dian 占zhan",
	"jwa": "佐zuo 左zuo", "juk": "竹zhu", "jik": "直zhi 稷ji 職zhi", "jip": "集ji 執zhi", "jing": "澄cheng 徵zheng",
	"cha": "車che 次ci 茶cha", "chom": "添tian 瞻zhan", "chwi": "翠cui 聚ju", "chi": "治zhi 致zhi 齒chi 致zhi 稚zhi", "tan": "炭tan 丹dan 旦dan 檀tan 端duan",
	"tap": "塔ta 答da", "pa": "波bo 巴ba 坡po 波bo", "pal": "八ba 發fa", "paeng": "彭peng", "pum": "品pin", "pung": "豊feng 風feng 豐feng",
	"pi": "皮pi 飛fei 丕pi 備bei 碑bei 非fei", "hap": "合he 哈ha", "haeng": "幸xing 行xing 杏xing", "hyang": "香xiang 鄕xiang 向xiang 響xiang",
	"hon": "憲xian 軒xuan 獻xian 許xu", "hoe": "會hui 回hui 懷huai 檜hui", "hwak": "確que 擴kuo", "hu": "厚hou 侯hou 後hou 候hou 后hou",
	"hyu": "休xiu", "kwan": "觀guan 寬kuan 官guan 關guan 館guan 冠guan", "kwi": "貴gui 龜gui 歸gui", "na": "羅luo 那na 娜na 奈nai 拿na",
	"rak": "樂le 洛luo 落luo", "rae": "來lai 萊lai", "ryang": "良liang 亮liang 梁liang 量liang 兩liang", "ryok": "力li 歷li 曆li",
	"ryol": "烈lie 列lie 洌lie", "ryun": "倫lun 輪lun 崙lun", "ryul": "律lv 栗li", "ryung": "隆long", "rip": "立li 笠li",
	"mae": "梅mei 每mei 梅mei 買mai 媒mei", "myon": "冕mian 勉mian 綿mian 面mian", "mok": "木mu 睦mu 牧mu 穆mu", "mong": "夢meng 蒙meng",
	"mu": "武wu 茂mao 務wu 無wu 舞wu 霧wu", "muk": "默mo 墨mo", "pon": "繁fan 本ben 範fan", "pop": "法fa", "pyok": "碧bi 壁bi",
	"puk": "北bei", "pun": "芬fen 粉fen 分fen", "pin": "彬bin 斌bin 賓bin 貧pin", "ping": "氷bing", "saeng": "生sheng 省sheng",
	"si": "時shi 始shi 詩shi 是shi 施shi 市shi 視shi", "ssang": "雙shuang", "sul": "述shu 術shu 戌xu", "sung": "崇chong 承cheng 勝sheng 昇sheng 升sheng 僧seng",
	"nak": "洛luo 樂le", "nyo": "女nv", "nong": "農nong", "ni": "泥ni 尼ni", "nung": "能neng", "tu": "斗dou 杜du 頭tou 豆dou", "tuk": "得de 德de",
	"mal": "末mo", "kye": "桂gui 季ji 啓qi 計ji 溪xi 界jie", "kyo": "敎jiao 交jiao 喬qiao 橋qiao 僑qiao",
	"kyol": "潔jie 結jie 決jue", "kyom": "謙qian 兼jian", "kyon": "見jian 堅jian 絹juan 犬quan", "kol": "骨gu",
	"kung": "宮gong 弓gong", "kwae": "快kuai", "kwa": "果guo 科ke 過guo 瓜gua", "ke": "計ji 啓qi",
	"ka": "家jia 佳jia 嘉jia 加jia 可ke 賀he 歌ge 價jia", "kak": "覺jue 閣ge 角jiao 各ge", "kam": "甘gan 感gan 監jian 鑑jian",
	"kan": "干gan 幹gan 簡jian 看kan 間jian", "kae": "開kai 改gai 凱kai 介jie", "kok": "谷gu 穀gu 曲qu",
	"kul": "窟ku", "kwal": "括kuo", "kyok": "格ge 擊ji", "kyun": "均jun 鈞jun 筠yun", "kyul": "橘ju", "nan": "蘭lan 暖nuan", "nae": "乃nai 內nei 奈nai", "nyon": "年nian", "nyom": "念nian", "nyong": "寧ning",
	"ta": "多duo 茶cha", "tal": "達da", "tam": "淡dan 談tan 潭tan 譚tan", "tang": "唐tang 堂tang 當dang", "ton": "敦dun 頓dun 惇dun", "tol": "突tu 乭shi", "tung": "登deng 等deng 騰teng 鄧deng", "mang": "望wang 亡wang", "maek": "麥mai 脈mai", "mil": "密mi 蜜mi",
	"pol": "伐fa 罰fa", "pyol": "別bie", "sae": "璽xi 塞sai 賽sai", "sak": "朔shuo", "sal": "薩sa", "sap": "揷cha", "sip": "十shi 拾shi",
	"sup": "習xi 濕shi", "ssi": "氏shi",
	"yak": "若ruo 藥yao 約yue", "yong": "龍long 容rong 勇yong 用yong 溶rong 英ying 永yong 榮rong 泳yong 寧ning",
	"yom": "廉lian 念nian 炎yan 艶yan 琰yan", "yon": "延yan 蓮lian 連lian 演yan 燕yan 然ran 淵yuan 硏yan",
	"yu": "柳liu 劉liu 流liu 兪yu 有you 裕yu 維wei 柔rou 儒ru 留liu 由you 遊you 油you", "yuk": "陸lu 六liu 育yu",
	"im": "林lin 任ren 壬ren", "i": "李li 利li 理li 伊yi 二er 以yi 易yi", "wa": "瓦wa 臥wo", "wae": "倭wo", "oe": "外wai", "ong": "翁weng 擁yong", "op": "業ye", "ya": "野ye 夜ye 耶ye",
}

// hanjaEntry is one hanja reading of a Korean syllable.
type hanjaEntry struct {
	han rune
	py  pyID
}

// hanjaByKey maps the coarse key of a syllable to its candidate readings.
var hanjaByKey = map[string][]hanjaEntry{}

func init() {
	keys := make([]string, 0, len(hanjaReadings))
	for k := range hanjaReadings {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic order of readings (and explanations)
	for _, key := range keys {
		list := hanjaReadings[key]
		if list == "" {
			continue
		}
		parses := parseKorean(key)
		if len(parses) == 0 || len(parses[0]) != 1 {
			panic(fmt.Sprintf("hanja table: %q is not one Korean syllable", key))
		}
		ck := coarseKey(parses[0][0])
		for _, item := range strings.Fields(list) {
			r, n := utf8.DecodeRuneInString(item)
			if !unicode.Is(unicode.Han, r) {
				panic(fmt.Sprintf("hanja table: %q: %q has no hanja", key, item))
			}
			id := internPinyin(item[n:])
			if id == 0 {
				panic(fmt.Sprintf("hanja table: %q: %q is not pinyin", key, item[n:]))
			}
			dup := false
			for _, e := range hanjaByKey[ck] {
				if e.py == id {
					dup = true
				}
			}
			if !dup {
				hanjaByKey[ck] = append(hanjaByKey[ck], hanjaEntry{r, id})
			}
			hanWords[r] = addHanReading(hanWords[r], parses[0][0], id)
		}
	}
}

// hanWords holds, for every hanja of the table, its readings as a word of
// a name: the Korean syllables the table lists it under and its Mandarin
// reading. A name written in hanja (金鐵三) is read both ways.
var hanWords = map[rune]*wordParses{}

func addHanReading(w *wordParses, k ksyl, py pyID) *wordParses {
	if w == nil {
		w = &wordParses{}
	}
	known := false
	for _, p := range w.korean {
		if p[0] == k {
			known = true
		}
	}
	if !known && len(w.korean) < maxParses {
		w.korean = append(w.korean, []ksyl{k})
		w.koreanEnds = append(w.koreanEnds, nil)
	}
	if len(w.chinese) == 0 {
		w.chinese = [][]chineseUnit{{{}}}
	}
	cu := &w.chinese[0][0]
	cu.py = unionIDs(cu.py, []pyID{py})
	return w
}

// hanjaFor returns the readings of a syllable and their pinyin ids (sorted).
func hanjaFor(k ksyl) ([]hanjaEntry, []pyID) {
	es := hanjaByKey[coarseKey(k)]
	ids := make([]pyID, len(es))
	for i, e := range es {
		ids[i] = e.py
	}
	return es, sortIDs(ids)
}
