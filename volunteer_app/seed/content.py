"""What the demo city says and shows: place and team words, names, themes by season, photos."""
from __future__ import annotations

import bisect
import io
import random
from datetime import date




def holidays_calendar(years: tuple[int, ...]):
    """China's public holidays and adjusted working days for those years."""
    import holidays

    return holidays.China(years=years)


def _choose_theme(rng: random.Random, kind: str, day: date) -> str:
    """A theme for an activity of this kind of team on that day: the city mix, the team's speciality, the season."""
    weights = dict(THEME_MIX)
    for theme in TEAM_KIND_THEMES.get(kind, ()):
        weights[theme] *= 4
    if day.month == 3 and day.day <= 10:
        weights["civility_promotion"] *= 2.5
        weights["community_service"] *= 1.8
    elif day.month in (7, 8):
        weights["minors"] *= 2.5
        weights["ecology"] *= 1.3
    elif day.month in (12, 1, 2):
        weights["elderly_disabled"] *= 1.8
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _chinese_name(rng: random.Random) -> str:
    """Surname by real frequency; one or two given-name characters (volunteers are a little more often women)."""
    random_ = rng.random
    surname = SURNAMES[bisect.bisect(SURNAME_CUM, random_() * SURNAME_CUM[-1])]
    if random_() < 0.56:
        single, first, second = FEMALE_SINGLE, FEMALE_FIRST, FEMALE_SECOND
    else:
        single, first, second = MALE_SINGLE, MALE_FIRST, MALE_SECOND
    if random_() < 0.28:
        return surname + single[int(random_() * len(single))]
    return surname + first[int(random_() * len(first))] + second[int(random_() * len(second))]


def demo_images() -> list[tuple[bytes, bytes, int, int]]:
    """Four small real JPEGs (image, thumbnail, width, height): red vests in a street, drawn with Pillow."""
    from PIL import Image, ImageDraw

    result = []
    scenes = [((135, 180, 220), (120, 120, 125)), ((170, 210, 240), (90, 150, 80)),
              ((200, 200, 210), (150, 130, 110)), ((120, 160, 200), (110, 110, 110))]
    for n, (sky, ground) in enumerate(scenes):
        image = Image.new("RGB", (480, 360), sky)
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 220, 480, 360), fill=ground)
        if n % 2 == 0:
            for x in range(20, 480, 60):  # a zebra crossing
                draw.rectangle((x, 300, x + 30, 350), fill=(235, 235, 235))
        for i in range(3 + n):
            x = 40 + i * (400 // (3 + n))
            draw.ellipse((x + 8, 150, x + 32, 174), fill=(230, 190, 160))
            draw.rectangle((x, 176, x + 40, 240), fill=(210, 30, 40))  # the red vest
            draw.rectangle((x + 6, 240, x + 34, 290), fill=(40, 50, 80))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=60, optimize=True)
        thumb = image.copy()
        thumb.thumbnail((160, 120))
        thumb_buffer = io.BytesIO()
        thumb.save(thumb_buffer, "JPEG", quality=60, optimize=True)
        result.append((buffer.getvalue(), thumb_buffer.getvalue(), 480, 360))
    return result


# --- word lists ---------------------------------------------------------------------------

DISTRICTS = ("青屏区", "临川区", "东澜区", "云溪区", "北塘区", "南岭区")
STREET_WORDS = [
    "和平", "长青", "新华", "建设", "解放", "人民", "胜利", "光明", "朝阳", "东风", "红旗", "前进", "文昌", "中兴", "民主",
    "团结", "幸福", "丰收", "振兴", "友谊", "青年", "育才", "望江", "临湖", "白沙", "金桥", "银湖", "翠屏", "龙泉", "凤鸣",
    "玉泉", "石桥", "柳林", "桃园", "杏花", "梅岭", "松柏", "枫林", "荷塘", "兰亭", "紫荆", "桂花", "樟树", "梧桐", "锦绣",
    "华林", "康乐", "安居", "永宁", "长乐", "太平", "万福", "广福", "清河", "西湖", "南湖", "北湖", "东城", "西城", "江滨",
    "湖滨", "鼓楼", "钟楼", "城关", "新城", "开元", "东兴", "南星", "北辰", "星光",
]
COMMUNITY_WORDS = [
    "清和", "永安", "春晖", "和谐", "明珠", "锦华", "福安", "嘉园", "丽景", "康宁", "惠民", "景苑", "阳光", "金色", "碧水",
    "翠竹", "新风", "友爱", "平安", "同心", "书香", "晨曦", "芙蓉", "银杏", "青松", "海棠", "丁香", "玉兰", "山水", "绿洲",
    "江南", "湖光", "半岛", "御景", "怡园", "乐居", "欣悦", "恒泰", "瑞祥", "宏福", "鑫源", "盛世", "华府", "金城", "长虹",
    "花溪", "月湖", "荷香", "竹园", "梨园", "果园", "桑园", "石门", "水岸", "云港", "汇景", "仁和", "德润", "诚信", "民安",
    "秀水", "映月", "听涛", "望湖", "观澜", "凤凰", "麒麟", "紫薇", "百合", "兰馨", "柏树", "杨柳", "芳草", "东篱", "南浦",
    "西岭", "北岸", "新桥", "古井", "双塘",
]
COMMUNITY_SUFFIXES = ["", "东", "西", "南", "北", "新村", "花园", "里", "苑"]
COMMUNITY_TEAM_KINDS = ("党员", "巾帼", "银龄", "青年", "邻里守望")
STREET_TEAM_KINDS = ("新时代文明实践", "应急救援", "文明交通", "生态环保", "助老")
TEAM_KIND_THEMES = {
    "党员": ("civility_promotion", "community_service"), "巾帼": ("minors", "community_service"),
    "银龄": ("elderly_disabled", "culture"), "青年": ("minors", "civilized_traffic"),
    "邻里守望": ("community_service", "sanitation"), "新时代文明实践": ("civility_promotion", "culture"),
    "应急救援": ("emergency",), "文明交通": ("civilized_traffic",), "生态环保": ("ecology", "sanitation"),
    "助老": ("elderly_disabled",),
}
TEAM_DESCRIPTIONS = {
    "": "社区居民自发组成的志愿服务队，开展环境整治、文明劝导、邻里互助等活动。",
    "党员": "由社区在职党员和离退休党员组成，带头参与社区治理与文明创建。",
    "巾帼": "社区妇女志愿者为主，关爱儿童、服务家庭、倡导文明新风。",
    "银龄": "低龄老人服务高龄老人，开展探访、助餐、文化娱乐活动。",
    "青年": "青年志愿者参与护学岗、文明交通和社区宣传。",
    "邻里守望": "楼栋长和热心居民组成，邻里互助、平安巡逻。",
    "新时代文明实践": "依托街道新时代文明实践所，组织理论宣讲和文明实践活动。",
    "应急救援": "具备救护、消防技能的志愿者，参与应急演练和防汛巡查。",
    "文明交通": "在重点路口和站台开展文明交通劝导。",
    "生态环保": "巡河护绿、垃圾分类宣传、节能环保倡导。",
    "助老": "为辖区独居、高龄老人提供上门服务。",
}
THEME_MIX = {
    "civilized_traffic": 24, "sanitation": 20, "community_service": 13, "elderly_disabled": 11,
    "civility_promotion": 10, "minors": 8, "ecology": 7, "culture": 5, "emergency": 2,
}
# theme: ((weekday start hours, weekend start hours), lengths in minutes, usual attendees)
THEME_TIMES = {
    "civilized_traffic": (((7, 7, 16, 17), (9, 10, 15)), (90, 120, 120), 14),
    "sanitation": (((8, 9, 14, 15), (8, 9, 14)), (90, 120, 150, 180), 26),
    "elderly_disabled": (((9, 14, 15), (9, 14)), (120, 150, 180), 18),
    "minors": (((16, 16, 9), (9, 14)), (120, 150, 180), 20),
    "civility_promotion": (((9, 10, 15), (9, 10, 15)), (60, 90, 120), 24),
    "community_service": (((9, 14, 15), (9, 10, 14)), (120, 150, 180), 26),
    "ecology": (((8, 9, 14), (8, 9, 14)), (120, 180, 240), 30),
    "emergency": (((9, 14), (9, 14)), (120, 180, 240), 20),
    "culture": (((15, 19), (9, 15, 19)), (90, 120, 150), 22),
}
MONTH_FACTOR = {1: 0.65, 2: 0.6, 3: 1.35, 4: 1.1, 5: 1.1, 6: 1.0, 7: 0.75, 8: 0.7, 9: 1.05, 10: 1.0, 11: 1.05, 12: 0.95}
THEME_TEXT = {
    "civilized_traffic": (
        ["文明交通劝导", "路口文明引导", "礼让斑马线宣传", "非机动车规范停放引导", "文明出行志愿岗", "“一盔一带”宣传劝导"],
        ["{road}与{road2}交叉口", "{road}公交站台", "地铁{line}号线{road}站出口", "{school}门口"],
    ),
    "sanitation": (
        ["楼道杂物清理", "背街小巷环境整治", "垃圾分类宣传指导", "小区环境大扫除", "清理小广告", "绿化带白色垃圾捡拾"],
        ["{community}{n}号楼", "{community}小区", "{road}沿线", "{community}农贸市场"],
    ),
    "elderly_disabled": (
        ["独居老人上门探访", "为老人义务理发", "助老智能手机教学", "残疾人家庭结对帮扶", "老年食堂助餐服务", "健康义诊进社区"],
        ["{community}居家养老服务站", "{community}老年活动中心", "{street}敬老院", "{community}党群服务中心"],
    ),
    "minors": (
        ["“四点半课堂”作业辅导", "假期托管陪伴", "青少年防溺水宣传", "亲子阅读", "护学岗", "未成年人心理关爱讲座"],
        ["{community}四点半课堂", "{school}", "{community}儿童之家", "{street}新时代文明实践所"],
    ),
    "civility_promotion": (
        ["文明城市创建宣传", "移风易俗宣讲", "学雷锋志愿服务宣传", "“光盘行动”倡导", "反诈知识宣传", "文明养犬宣传"],
        ["{community}文化广场", "{street}新时代文明实践所", "{road}步行街", "{park}"],
    ),
    "community_service": (
        ["便民服务集市", "邻里互助日", "社区义诊", "家电义务维修", "平安巡逻", "社区议事协调"],
        ["{community}党群服务中心", "{community}文化广场", "{community}小区门口", "{street}便民服务中心"],
    ),
    "ecology": (
        ["河道清漂巡河", "义务植树", "湿地公园环保捡拾", "节能减排宣传", "护绿认养", "旧衣物回收"],
        ["{river}{bank}", "{park}", "{community}绿地", "{road}绿化带"],
    ),
    "emergency": (
        ["应急救护培训", "消防安全演练", "防汛巡查", "地震逃生演练", "燃气安全入户宣传", "防溺水巡查"],
        ["{community}党群服务中心", "{river}{bank}", "{street}应急避难场所", "{school}"],
    ),
    "culture": (
        ["社区文艺汇演", "书法进社区写春联", "公益电影放映", "图书角整理与借阅", "非遗手工体验", "广场舞展演"],
        ["{community}文化广场", "{street}文化站", "{community}图书室", "{park}"],
    ),
}
ROADS = ["人民路", "解放路", "建设路", "中山路", "长江路", "黄河路", "文化路", "胜利路", "和平路", "新华路", "青年路",
         "工农路", "民主路", "光明路", "朝阳路", "滨江大道", "环湖路", "学府路", "科技路", "迎宾大道", "健康路", "车站路"]
SCHOOLS = ["实验小学", "第一中学", "育才小学", "第三中学", "师范附属小学", "外国语学校", "第二实验小学"]
PARKS = ["人民公园", "滨江公园", "湿地公园", "森林公园", "儿童公园", "植物园", "体育公园"]
RIVERS = ["清水河", "玉带河", "护城河", "白沙河", "青溪"]
CANCEL_REASONS = ["因暴雨预警取消", "场地临时征用，活动取消", "与街道统一行动时间冲突，改期举行", "报名人数不足，取消"]
SUSPEND_REASONS = ["负责人变更，待重新审核", "连续三个月未开展活动，暂停待整改", "活动记录存疑，暂停核查"]
VOID_REASONS = ["重复登记", "本人未实际参加", "登记错人，已更正"]

_SURNAME_FREQ = (
    ("王", 712), ("李", 700), ("张", 674), ("刘", 510), ("陈", 461), ("杨", 322), ("黄", 245), ("赵", 229), ("吴", 205),
    ("周", 193), ("徐", 160), ("孙", 153), ("马", 139), ("朱", 131), ("胡", 126), ("郭", 116), ("何", 115), ("林", 109),
    ("高", 108), ("罗", 87), ("郑", 85), ("梁", 84), ("谢", 76), ("宋", 73), ("唐", 70), ("许", 67), ("韩", 65), ("冯", 64),
    ("邓", 63), ("曹", 63), ("彭", 59), ("曾", 58), ("肖", 55), ("田", 54), ("董", 52), ("潘", 50), ("袁", 50), ("蔡", 48),
    ("蒋", 48), ("余", 47), ("于", 47), ("杜", 46), ("叶", 45), ("程", 44), ("魏", 42), ("苏", 42), ("吕", 41), ("丁", 40),
    ("任", 39), ("卢", 38), ("姚", 38), ("沈", 37), ("钟", 36), ("姜", 35), ("崔", 34), ("谭", 34), ("陆", 33), ("范", 32),
    ("汪", 32), ("廖", 31), ("石", 31), ("金", 30), ("韦", 30), ("贾", 29), ("夏", 29), ("付", 28), ("方", 28), ("邹", 27),
    ("熊", 27), ("白", 27), ("孟", 26), ("秦", 26), ("邱", 26), ("侯", 25), ("江", 25), ("尹", 24), ("薛", 24), ("闫", 23),
    ("段", 23), ("雷", 23), ("龙", 22), ("黎", 22), ("史", 22), ("陶", 21), ("贺", 21), ("毛", 20), ("郝", 20), ("顾", 20),
    ("龚", 19), ("邵", 19), ("万", 18), ("覃", 18), ("武", 18), ("钱", 17), ("戴", 17), ("严", 17), ("欧阳", 5), ("司马", 1),
)
SURNAMES = [s for s, _f in _SURNAME_FREQ]
SURNAME_CUM = []
_total = 0
for _s, _f in _SURNAME_FREQ:
    _total += _f
    SURNAME_CUM.append(_total)
FEMALE_SINGLE = list("芳娜敏静丽艳娟霞秀玲燕红梅琳婷雪慧颖倩洁佳欣怡萍兰琴云莉璐晶丹蕾薇瑶")
FEMALE_FIRST = list("秀桂淑玉丽春晓雅欣思雨梦诗佳子一紫语美凤海小静慧")
FEMALE_SECOND = list("英兰珍芳华梅霞琴娟婷琳怡涵萱彤琪悦宁然洁云敏燕")
MALE_SINGLE = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳峰亮成晨博")
MALE_FIRST = list("建国志文海永德宏子浩宇俊明家天振晓立学红春思一")
MALE_SECOND = list("国华军平明伟强东峰林杰涛斌鹏辉轩然睿泽宇航博文成")
# Recruitment texts: what a public activity asks of the people who sign up, and where they meet.
REQUIREMENTS = {
    "civilized_traffic": ["统一穿红马甲，戴小红帽", "请提前10分钟到岗，听从带队安排", "需站立两小时左右，注意防晒补水"],
    "sanitation": ["自带手套，工具由社区提供", "穿方便活动的衣服和运动鞋", "请自备水杯，减少一次性用品"],
    "elderly_disabled": ["有耐心，能用方言交流者优先", "会理发者优先报名", "上门探访需两人同行"],
    "minors": ["高中及以上学历，能辅导小学作业", "需有教师资格证或相关经验", "请携带身份证，签署安全承诺书"],
    "civility_promotion": ["普通话标准，能面向群众宣讲", "宣传资料现场领取", "统一穿红马甲"],
    "community_service": ["有家电维修技能者优先", "会测血压者优先", "请自备水杯"],
    "ecology": ["穿防滑鞋，自带手套", "水边作业需穿救生衣，现场发放", "植树工具现场提供"],
    "emergency": ["持红十字救护员证者优先", "需身体健康，能完成体力活动", "请携带身份证"],
    "culture": ["有文艺特长者优先", "会写毛笔字者优先", "负责现场秩序维护，需提前半小时到场"],
}
MEETING_POINTS = ["{place}入口处", "{place}旁志愿服务岗亭", "社区党群服务中心门口集合", "{place}北侧广场集合", "现场签到桌"]
DECLINE_REASONS = ["人数已满，欢迎报名下次活动", "本次需有相关资质，暂不录用", "时间冲突，请另选场次"]
